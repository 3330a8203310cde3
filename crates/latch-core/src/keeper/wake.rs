//! Hearing the machine wake and the network come back, so the keeper acts on them at once
//! instead of waiting for its next look at the wall clock (at most a minute) or the end of a
//! back-off. On Linux: systemd-logind's `PrepareForSleep(false)` and NetworkManager's
//! `StateChanged(70)` (connected, global) on the system bus — `DBUS_SYSTEM_BUS_ADDRESS` when
//! set. No system bus, no logind or NetworkManager, or another platform (macOS and Windows
//! have no listener here yet): nothing is heard, said at debug level, and the keeper's
//! once-a-minute wall-clock check is what catches up after a sleep.

use std::sync::{Arc, atomic::AtomicBool};

use tokio::{sync::mpsc, task::JoinHandle};

/// What the system said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Signal {
    /// The machine woke from sleep.
    Woke,
    /// The network is connected again.
    NetworkUp,
}

/// Listen on the system bus in a task of its own, sending what is heard to `signals`;
/// `listening` is true while the signals are subscribed to. `None` where there is nothing to
/// listen to.
#[cfg(target_os = "linux")]
pub(super) fn listen(
    signals: mpsc::UnboundedSender<Signal>,
    listening: Arc<AtomicBool>,
) -> Option<JoinHandle<()>> {
    use std::sync::atomic::Ordering;
    Some(tokio::spawn(async move {
        if let Err(error) = linux::listen(&signals, &listening).await {
            tracing::debug!(
                %error,
                "not hearing sleep and wake on the system bus; deadlines are caught up by the once-a-minute wall-clock check"
            );
        }
        listening.store(false, Ordering::Relaxed);
    }))
}

#[cfg(not(target_os = "linux"))]
pub(super) fn listen(
    _signals: mpsc::UnboundedSender<Signal>,
    _listening: Arc<AtomicBool>,
) -> Option<JoinHandle<()>> {
    tracing::debug!(
        "no sleep and wake listener on this platform; deadlines are caught up by the once-a-minute wall-clock check"
    );
    None
}

#[cfg(target_os = "linux")]
mod linux {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };

    use futures::StreamExt;
    use tokio::sync::mpsc;
    use zbus::{MatchRule, Message, MessageStream, message::Type};

    use super::Signal;

    const LOGIND_MANAGER: (&str, &str, &str) = (
        "/org/freedesktop/login1",
        "org.freedesktop.login1.Manager",
        "PrepareForSleep",
    );
    const NETWORK_MANAGER: (&str, &str, &str) = (
        "/org/freedesktop/NetworkManager",
        "org.freedesktop.NetworkManager",
        "StateChanged",
    );
    /// NetworkManager's `NM_STATE_CONNECTED_GLOBAL`.
    const CONNECTED_GLOBAL: u32 = 70;

    pub(super) async fn listen(
        signals: &mpsc::UnboundedSender<Signal>,
        listening: &Arc<AtomicBool>,
    ) -> zbus::Result<()> {
        let bus = zbus::Connection::system().await?;
        let sleep = MessageStream::for_match_rule(rule(LOGIND_MANAGER)?, &bus, None).await?;
        let network = MessageStream::for_match_rule(rule(NETWORK_MANAGER)?, &bus, None).await?;
        listening.store(true, Ordering::Relaxed);
        tracing::debug!("listening for sleep, wake and network changes on the system bus");
        let mut heard = futures::stream::select(sleep, network);
        while let Some(message) = heard.next().await {
            let Some(signal) = message.ok().as_ref().and_then(signal_of) else {
                continue;
            };
            tracing::info!(?signal, "heard from the system bus");
            if signals.send(signal).is_err() {
                break;
            }
        }
        Ok(())
    }

    /// Signals of that name, interface and path (from any sender: a forged one only makes the
    /// keeper look at its deadlines).
    fn rule((path, interface, member): (&str, &str, &str)) -> zbus::Result<MatchRule<'static>> {
        Ok(MatchRule::builder()
            .msg_type(Type::Signal)
            .path(path.to_owned())?
            .interface(interface.to_owned())?
            .member(member.to_owned())?
            .build())
    }

    pub(super) fn signal_of(message: &Message) -> Option<Signal> {
        let header = message.header();
        match header.member()?.as_str() {
            "PrepareForSleep" => {
                let sleeping: bool = message.body().deserialize().ok()?;
                (!sleeping).then_some(Signal::Woke)
            }
            "StateChanged" => {
                let state: u32 = message.body().deserialize().ok()?;
                (state == CONNECTED_GLOBAL).then_some(Signal::NetworkUp)
            }
            _ => None,
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn signal<B>((path, interface, member): (&str, &str, &str), body: &B) -> Message
        where
            B: serde::Serialize + zbus::zvariant::DynamicType,
        {
            Message::signal(path, interface, member)
                .unwrap()
                .build(body)
                .unwrap()
        }

        #[test]
        fn wake_and_a_connected_network_are_heard_nothing_else() {
            assert_eq!(
                signal_of(&signal(LOGIND_MANAGER, &false)),
                Some(Signal::Woke)
            );
            assert_eq!(
                signal_of(&signal(LOGIND_MANAGER, &true)),
                None,
                "going to sleep"
            );
            assert_eq!(
                signal_of(&signal(NETWORK_MANAGER, &70u32)),
                Some(Signal::NetworkUp)
            );
            // Connecting (40), connected to the site only (60), disconnected (20).
            for state in [20u32, 40, 60] {
                assert_eq!(signal_of(&signal(NETWORK_MANAGER, &state)), None);
            }
            // A body of the wrong type is ignored.
            assert_eq!(signal_of(&signal(LOGIND_MANAGER, &"no")), None);
        }

        #[test]
        fn match_rules_name_the_signals() {
            let rule = rule(LOGIND_MANAGER).unwrap().to_string();
            assert!(rule.contains("member='PrepareForSleep'"), "{rule}");
            assert!(
                rule.contains("interface='org.freedesktop.login1.Manager'"),
                "{rule}"
            );
            assert!(rule.contains("type='signal'"), "{rule}");
        }
    }
}
