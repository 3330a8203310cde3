//! Where Latch's HTTP requests may go, and the clients that send them. Below everything that
//! talks to the network (sign-in, connections, the app's probe): URLs a server hands Latch are
//! checked here ([`endpoints`]), host names are resolved and their addresses checked here
//! ([`resolver`]), and the pooled clients with those checks built in live here ([`clients`]).

mod clients;
pub(crate) mod endpoints;
mod resolver;

pub(crate) use clients::client_for;
pub use endpoints::check_url_to_open;
pub(crate) use endpoints::{RedirectRefused, check_hop, redirect_policy, shown};
pub(crate) use resolver::{AddressRefused, CheckedResolver};
