//! The servers the add dialog offers by name, so nobody has to find their URLs: Notion, and
//! Madgicx's Facebook Ads and Google Ads servers. Madgicx offers two sign-ins: a person signs
//! in through the browser (choosing the team at consent; each team is an account in Latch),
//! which is the default; agents and automation use a client ID and secret from Madgicx's MCP
//! Integration settings, stored once under the credentials name `madgicx` for both servers.

use serde_json::json;

use super::dto::{Preset, PresetSignIn, ServerEntryInput};

/// The named credentials both Madgicx servers use.
pub const MADGICX_CREDENTIALS: &str = "madgicx";

/// Where Madgicx's documentation says the client ID and secret are.
const MADGICX_CREDENTIALS_HELP: &str = "In Madgicx, open the MCP Integration settings and copy the client ID and client secret. If Madgicx gives you a token URL too, paste it under Token URL.";

pub fn presets() -> Vec<Preset> {
    let madgicx = |id: &str, label: &str, name: &str, url: &str, what: &str| {
        let sign_ins = vec![
            PresetSignIn {
                id: "browser".to_owned(),
                label: "Sign in with Madgicx".to_owned(),
                description: "Your browser opens so you can choose a Madgicx team and approve Latch. Each team you sign in with is an account in Latch.".to_owned(),
                auth: None,
                credentials: None,
                credentials_help: None,
            },
            PresetSignIn {
                id: "clientCredentials".to_owned(),
                label: "Client ID and secret (for agents)".to_owned(),
                description: "For agents and automation: Latch signs in with a client ID and secret, no browser. One pair serves both Madgicx servers.".to_owned(),
                auth: Some(
                    json!({"type": "client_credentials", "credentials": MADGICX_CREDENTIALS}),
                ),
                credentials: Some(MADGICX_CREDENTIALS.to_owned()),
                credentials_help: Some(MADGICX_CREDENTIALS_HELP.to_owned()),
            },
        ];
        Preset {
            id: id.to_owned(),
            label: label.to_owned(),
            // Short: the card shows three lines; the sign-in choices say the rest.
            description: format!(
                "{what}. Sign in through your browser, or with a client ID and secret."
            ),
            name: name.to_owned(),
            entry: entry(url, &sign_ins[0]),
            sign_ins,
        }
    };
    let notion_sign_in = PresetSignIn {
        id: "browser".to_owned(),
        label: "Sign in with Notion".to_owned(),
        description: "Your browser opens so you can pick a workspace and approve Latch.".to_owned(),
        auth: None,
        credentials: None,
        credentials_help: None,
    };
    vec![
        Preset {
            id: "notion".to_owned(),
            label: "Notion".to_owned(),
            description: "Your Notion pages and databases. Your browser opens so you can pick a workspace and approve Latch.".to_owned(),
            name: "notion".to_owned(),
            entry: entry("https://mcp.notion.com/mcp", &notion_sign_in),
            sign_ins: vec![notion_sign_in],
        },
        madgicx(
            "madgicx-facebook",
            "Madgicx · Facebook Ads",
            "madgicx-facebook",
            "https://mcp.madgicx.com/mcp",
            "Your Facebook and Instagram ad accounts through Madgicx",
        ),
        madgicx(
            "madgicx-google",
            "Madgicx · Google Ads",
            "madgicx-google",
            "https://mcp-google-ads.madgicx.com/mcp",
            "Your Google Ads accounts through Madgicx",
        ),
    ]
}

/// The servers-file entry of `url` signed in as `sign_in` says.
fn entry(url: &str, sign_in: &PresetSignIn) -> ServerEntryInput {
    ServerEntryInput {
        url: Some(url.to_owned()),
        auth: sign_in.auth.clone(),
        ..ServerEntryInput::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preset(id: &str) -> Preset {
        presets().into_iter().find(|p| p.id == id).unwrap()
    }

    #[test]
    fn madgicx_signs_in_through_the_browser_by_default_and_offers_client_credentials() {
        for id in ["madgicx-facebook", "madgicx-google"] {
            let p = preset(id);
            let ids: Vec<&str> = p.sign_ins.iter().map(|s| s.id.as_str()).collect();
            assert_eq!(ids, ["browser", "clientCredentials"], "{id}");
            let browser = &p.sign_ins[0];
            assert_eq!(browser.label, "Sign in with Madgicx");
            assert_eq!(browser.auth, None);
            assert_eq!(browser.credentials, None);
            // The default choice is what the entry says.
            assert_eq!(p.entry.auth, None);

            let agents = &p.sign_ins[1];
            assert_eq!(agents.label, "Client ID and secret (for agents)");
            assert_eq!(
                agents.auth,
                Some(json!({"type": "client_credentials", "credentials": "madgicx"}))
            );
            assert_eq!(agents.credentials.as_deref(), Some(MADGICX_CREDENTIALS));
            let help = agents.credentials_help.as_deref().unwrap();
            assert!(help.contains("MCP Integration settings"), "{help}");
            assert!(!help.contains("API access"), "{help}");
        }
        assert_eq!(
            preset("madgicx-facebook").entry.url.as_deref(),
            Some("https://mcp.madgicx.com/mcp")
        );
        assert_eq!(
            preset("madgicx-google").entry.url.as_deref(),
            Some("https://mcp-google-ads.madgicx.com/mcp")
        );
    }

    #[test]
    fn notion_signs_in_through_the_browser_only() {
        let p = preset("notion");
        assert_eq!(p.entry.url.as_deref(), Some("https://mcp.notion.com/mcp"));
        assert_eq!(p.entry.auth, None);
        assert_eq!(p.sign_ins.len(), 1);
        assert_eq!(p.sign_ins[0].id, "browser");
        assert_eq!(p.sign_ins[0].credentials, None);
    }

    #[test]
    fn the_dialog_sees_the_choices_in_camel_case() {
        let value = serde_json::to_value(preset("madgicx-google")).unwrap();
        let choice = &value["signIns"][1];
        assert_eq!(choice["credentials"], "madgicx");
        assert!(choice["credentialsHelp"].is_string());
        assert_eq!(choice["auth"]["type"], "client_credentials");
    }
}
