// Preload (`node --require ./bind-localhost.cjs …` or
// `NODE_OPTIONS=--require=/abs/path/bind-localhost.cjs`) that makes TCP servers listen on
// 127.0.0.1 instead of all interfaces when the program does not name a host.
//
// The test peers (server-everything, the conformance suite's scenario servers) call
// `listen(port)` / `app.listen(0)` with no host; the tests must not expose them on the network.
// Calls that name a host, a Unix socket path, a handle or a file descriptor are left alone.
//
// Node resolves an explicit host asynchronously (a `dns.lookup`, even for an IP literal), so
// `server.address()` would be null right after `listen()` returns — and the conformance suite
// reads `app.listen(0).address().port` synchronously. While our injected listen call runs, the
// lookup of our own literal host is answered synchronously, which keeps Node's behaviour for
// host-less listens: bound by the time `listen()` returns.
'use strict';

const net = require('node:net');
const dns = require('node:dns');

const HOST = '127.0.0.1';
const FAMILY = 4;

const originalListen = net.Server.prototype.listen;

// Mirrors Node's own test: a string that is a non-negative number is a port, anything else a
// pipe path.
function isPort(value) {
  return typeof value === 'number' || (typeof value === 'string' && Number(value) >= 0);
}

function isPlainOptions(value) {
  if (value === null || typeof value !== 'object') return false;
  if (value._handle || value.fd != null || value.path != null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null || 'port' in value;
}

// Returns the arguments with the host filled in, or null when the call must be left alone.
function withDefaultHost(args) {
  // listen() / listen(callback): a random port on all interfaces.
  if (args.length === 0 || typeof args[0] === 'function') {
    return [0, HOST, ...args];
  }
  const first = args[0];
  // listen(port[, host][, backlog][, callback])
  if (isPort(first)) {
    if (args.length > 1 && typeof args[1] === 'string') return null; // host given
    if (args.length > 1 && args[1] == null) return [first, HOST, ...args.slice(2)];
    return [first, HOST, ...args.slice(1)];
  }
  // listen(options[, callback])
  if (isPlainOptions(first)) {
    if (first.host != null && first.host !== '') return null;
    return [{ ...first, host: HOST }, ...args.slice(1)];
  }
  return null; // pipe path, handle, …
}

function listenWithSyncLookup(server, args) {
  const originalLookup = dns.lookup;
  dns.lookup = function lookup(hostname, options, callback) {
    if (hostname !== HOST) return originalLookup.apply(this, arguments);
    if (typeof options === 'function') {
      callback = options;
      options = {};
    }
    if (options && typeof options === 'object' && options.all) {
      callback(null, [{ address: HOST, family: FAMILY }]);
    } else {
      callback(null, HOST, FAMILY);
    }
    return {};
  };
  try {
    return originalListen.apply(server, args);
  } finally {
    dns.lookup = originalLookup;
  }
}

net.Server.prototype.listen = function listen(...args) {
  const patched = withDefaultHost(args);
  if (patched === null) return originalListen.apply(this, args);
  return listenWithSyncLookup(this, patched);
};
