// A minimal headless "browser" for the test peer: Node's fetch with a cookie jar and manual
// redirect handling, enough to walk oidc-provider's authorization and device pages.
// Used by approve-device.mjs and selftest.mjs.

export class Browser {
  #cookies = new Map(); // `${host} ${path} ${name}` -> { host, path, name, value }

  constructor({ maxRedirects = 20 } = {}) {
    this.maxRedirects = maxRedirects;
  }

  #store(url, response) {
    const { host } = new URL(url);
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [rawKey, ...rest] = attribute.split('=');
        const key = rawKey.trim().toLowerCase();
        const attributeValue = rest.join('=').trim();
        if (key === 'path' && attributeValue.startsWith('/')) path = attributeValue;
        if (key === 'max-age' && Number(attributeValue) <= 0) expired = true;
        if (key === 'expires' && Date.parse(attributeValue) <= Date.now()) expired = true;
      }
      const key = `${host} ${path} ${name}`;
      if (expired) this.#cookies.delete(key);
      else this.#cookies.set(key, { host, path, name, value });
    }
  }

  #header(url) {
    const { host, pathname } = new URL(url);
    const matching = [...this.#cookies.values()].filter((c) => c.host === host && (
      pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)
    ));
    // Longer paths first, as browsers send them.
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  /** One request, no redirect following. `form` (an object) is sent urlencoded with POST. */
  async request(url, { method, form, headers = {} } = {}) {
    const init = { method: method ?? (form ? 'POST' : 'GET'), redirect: 'manual', headers: { ...headers } };
    const cookie = this.#header(url);
    if (cookie) init.headers.cookie = cookie;
    if (form) {
      init.headers['content-type'] = 'application/x-www-form-urlencoded';
      init.body = new URLSearchParams(form).toString();
    }
    const response = await fetch(url, init);
    this.#store(url, response);
    return response;
  }

  /**
   * Requests `url` and follows redirects (as GETs). Stops early, without requesting it, at a
   * Location for which `stopAt(location)` is true. Returns { url, response, stoppedAt, hops }.
   */
  async follow(url, { stopAt = () => false, ...options } = {}) {
    let current = url;
    let response = await this.request(current, options);
    const hops = [current];
    for (let i = 0; i < this.maxRedirects; i += 1) {
      if (![301, 302, 303, 307, 308].includes(response.status)) {
        return { url: current, response, stoppedAt: undefined, hops };
      }
      const location = new URL(response.headers.get('location'), current).href;
      await response.body?.cancel();
      if (stopAt(location)) return { url: current, response, stoppedAt: location, hops };
      current = location;
      hops.push(current);
      response = await this.request(current);
    }
    throw new Error(`more than ${this.maxRedirects} redirects from ${url}`);
  }
}

/** The hidden and text inputs of the first <form> whose id or action matches, as an object. */
export function formFields(html, formId) {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)];
  const form = forms.find(([, attributes]) => !formId || attributes.includes(`id="${formId}"`));
  if (!form) return undefined;
  const action = form[1].match(/action="([^"]*)"/i)?.[1];
  const fields = {};
  for (const [input] of form[2].matchAll(/<input\b[^>]*>/gi)) {
    const name = input.match(/name="([^"]*)"/i)?.[1];
    if (!name) continue;
    fields[name] = decodeEntities(input.match(/value="([^"]*)"/i)?.[1] ?? '');
  }
  return { action: action && decodeEntities(action), fields };
}

function decodeEntities(text) {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
