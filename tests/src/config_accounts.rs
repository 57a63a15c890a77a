//! The accounts a merchant who connects through the fake authorization servers can pick from: a
//! Google Ads account hierarchy (managers and their clients) and Meta ad accounts with their
//! datasets (pixels).
//!
//! These are settings, not state: the "Connect Google" / "Connect Meta" pickers list them, and the
//! Google Ads and Graph fakes check a connected user's calls against them. The sandbox's
//! configured credentials (`google_refresh_token`, `meta_access_token`) predate the pickers and are
//! not held to these lists (oauth.md §9.3).

use crate::config::DEFAULT_CUSTOMER_ID;

/// A Google Ads account (`customer`) in the sandbox's hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdsAccount {
    /// 10-digit customer id.
    pub id: String,
    /// `customer.descriptive_name`.
    pub name: String,
    /// Whether it is a manager (MCC) account.
    pub manager: bool,
    /// The manager that links it as a client; `None`: the connected user reaches it directly, so
    /// `customers:listAccessibleCustomers` lists it.
    pub parent: Option<String>,
}

impl AdsAccount {
    fn new(id: &str, name: &str, manager: bool, parent: Option<&str>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            manager,
            parent: parent.map(str::to_owned),
        }
    }
}

/// The default manager account (it links [`DEFAULT_CUSTOMER_ID`]).
pub const DEFAULT_MANAGER_ID: &str = "9998887776";

/// The default hierarchy: the manager "Sandbox Agency (manager)" with the default shop account
/// `1234567890` and an outlet account as clients, a sub-manager with one client of its own (level
/// 2, so `WHERE customer_client.level <= 1` has something to filter), and one account the user
/// reaches directly.
pub fn default_ads_accounts() -> Vec<AdsAccount> {
    vec![
        AdsAccount::new(DEFAULT_MANAGER_ID, "Sandbox Agency (manager)", true, None),
        AdsAccount::new(
            DEFAULT_CUSTOMER_ID,
            "Sandbox Shop",
            false,
            Some(DEFAULT_MANAGER_ID),
        ),
        AdsAccount::new(
            "2223334445",
            "Sandbox Outlet",
            false,
            Some(DEFAULT_MANAGER_ID),
        ),
        AdsAccount::new(
            "3334445556",
            "Sandbox Regional (manager)",
            true,
            Some(DEFAULT_MANAGER_ID),
        ),
        AdsAccount::new(
            "4445556667",
            "Sandbox Regional Shop",
            false,
            Some("3334445556"),
        ),
        AdsAccount::new("5556667778", "Sandbox Direct Shop", false, None),
    ]
}

/// A Meta dataset (pixel) an ad account owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaDataset {
    /// Numeric dataset / pixel id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// A Meta ad account the connected user (and the system user) can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaAdAccount {
    /// `act_<digits>`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Its datasets (`adspixels`).
    pub datasets: Vec<MetaDataset>,
}

/// The pixel `make dev` and the browser tests configure (`META_PIXEL_ID`, scripts/dev.sh).
pub const DEFAULT_META_PIXEL_ID: &str = "123456789";

/// The default ad accounts: the shop's, owning the dev pixel `123456789`, and a second one owning
/// dataset `987654321`.
pub fn default_meta_ad_accounts() -> Vec<MetaAdAccount> {
    let dataset = |id: &str, name: &str| MetaDataset {
        id: id.into(),
        name: name.into(),
    };
    vec![
        MetaAdAccount {
            id: "act_1122334455".into(),
            name: "Sandbox Shop ad account".into(),
            datasets: vec![dataset(DEFAULT_META_PIXEL_ID, "Sandbox Shop pixel")],
        },
        MetaAdAccount {
            id: "act_6677889900".into(),
            name: "Sandbox Outlet ad account".into(),
            datasets: vec![dataset("987654321", "Sandbox Outlet dataset")],
        },
    ]
}
