//! The servers the add dialog offers by name, so nobody has to find their URLs: Notion, and
//! Madgicx's Facebook Ads and Google Ads servers (one client id and secret serves both, stored
//! once under the credentials name `madgicx`).

use serde_json::json;

use super::dto::{Preset, ServerEntryInput};

/// The named credentials both Madgicx servers use.
pub const MADGICX_CREDENTIALS: &str = "madgicx";

pub fn presets() -> Vec<Preset> {
    let madgicx = |id: &str, label: &str, name: &str, url: &str, what: &str| Preset {
        id: id.to_owned(),
        label: label.to_owned(),
        description: format!(
            "{what}. Signs in with your Madgicx client ID and secret (one pair serves both Madgicx servers)."
        ),
        name: name.to_owned(),
        entry: ServerEntryInput {
            url: Some(url.to_owned()),
            auth: Some(json!({"type": "client_credentials", "credentials": MADGICX_CREDENTIALS})),
            ..ServerEntryInput::default()
        },
        credentials: Some(MADGICX_CREDENTIALS.to_owned()),
        credentials_help: Some(
            "Find them in Madgicx under Settings → API access (client ID and client secret)."
                .to_owned(),
        ),
    };
    vec![
        Preset {
            id: "notion".to_owned(),
            label: "Notion".to_owned(),
            description: "Your Notion pages and databases. Your browser opens so you can pick a workspace and approve Latch.".to_owned(),
            name: "notion".to_owned(),
            entry: ServerEntryInput {
                url: Some("https://mcp.notion.com/mcp".to_owned()),
                ..ServerEntryInput::default()
            },
            credentials: None,
            credentials_help: None,
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
