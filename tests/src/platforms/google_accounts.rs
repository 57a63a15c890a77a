//! The Google Ads account hierarchy (`SandboxConfig::google_ads_accounts`) as the API shows it to
//! the "Connect Google" picker, and who may call which account:
//!
//! - `GET /{version}/customers:listAccessibleCustomers` → `{"resourceNames":["customers/…"]}`,
//!   the accounts the user reaches directly ("Returns resource names of customers directly
//!   accessible by the user authenticating the call", CustomerService.ListAccessibleCustomers;
//!   no customer id and no `login-customer-id` involved; oauth.md §4.1).
//! - `customer_client` rows for `googleAds:search`: "A link between the given customer and a
//!   client customer … All direct and indirect client customers are included, as well as the
//!   manager itself"; `level` is the distance (0 = the account itself), `resource_name` is
//!   `customers/{customer_id}/customerClients/{client_customer_id}` (`fields/customer_client`,
//!   oauth.md §4.2).
//! - A connected user (a token from the consent flow) reaches a client account only through its
//!   manager, named in `login-customer-id` (reference/google.md §1.1); otherwise
//!   `authorizationError: USER_PERMISSION_DENIED` ("User doesn't have permission to access
//!   customer. Note: If you're accessing a client customer, the manager's customer id must be set
//!   in the 'login-customer-id' header."), or
//!   `INVALID_LOGIN_CUSTOMER_ID_SERVING_CUSTOMER_ID_COMBINATION` when the header names the user's
//!   manager but the account is not under it (`AuthorizationErrorEnum`). A malformed header is
//!   `headerError: INVALID_LOGIN_CUSTOMER_ID` (oauth.md §4.3). The configured refresh token's
//!   user keeps addressing any 10-digit id, as before the hierarchy existed.

use std::collections::VecDeque;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::google_ads::{ads_rejected, api_version};
use super::google_auth::{check_bearer, check_developer_token};
use super::google_error::AdsError;
use super::google_grants::Grantor;
use super::{Outcome, PlatformRequest};
use crate::config_accounts::AdsAccount;
use crate::record::Verdict;
use crate::state::AppState;

const LIST: &str = "listAccessibleCustomers";

fn ten_digits(id: &str) -> bool {
    id.len() == 10 && id.bytes().all(|b| b.is_ascii_digit())
}

/// The accounts under `root` (itself at level 0), breadth first, each with its level.
pub fn subtree<'a>(accounts: &'a [AdsAccount], root: &str) -> Vec<(&'a AdsAccount, u32)> {
    let mut out = Vec::new();
    let mut queue: VecDeque<(&str, u32)> = VecDeque::from([(root, 0)]);
    while let Some((id, level)) = queue.pop_front() {
        let Some(account) = accounts.iter().find(|a| a.id == id) else {
            continue;
        };
        if out.iter().any(|(a, _): &(&AdsAccount, u32)| a.id == id) {
            continue;
        }
        out.push((account, level));
        if account.manager {
            for child in accounts.iter().filter(|a| a.parent.as_deref() == Some(id)) {
                queue.push_back((&child.id, level + 1));
            }
        }
    }
    out
}

/// The `customer_client` resources of `customer`, as REST returns them. An id the hierarchy does
/// not know (the configured user may use any) is a plain account with only its self link.
pub fn customer_clients(accounts: &[AdsAccount], customer: &str) -> Vec<Value> {
    let stranger = AdsAccount {
        id: customer.into(),
        name: format!("Sandbox account {customer}"),
        manager: false,
        parent: None,
    };
    let mut tree = subtree(accounts, customer);
    if tree.is_empty() {
        tree.push((&stranger, 0));
    }
    tree.into_iter()
        .map(|(a, level)| {
            json!({
                "resourceName": format!("customers/{customer}/customerClients/{}", a.id),
                "clientCustomer": format!("customers/{}", a.id),
                "id": a.id,
                "descriptiveName": a.name,
                "manager": a.manager,
                // int64 fields are JSON strings in REST.
                "level": level.to_string(),
                "currencyCode": "EUR",
                "timeZone": "Europe/Berlin",
                "status": "ENABLED",
                "hidden": false,
                "testAccount": true,
            })
        })
        .collect()
}

fn permission_denied() -> AdsError {
    AdsError::new(
        "authorizationError",
        "USER_PERMISSION_DENIED",
        "User doesn't have permission to access customer. Note: If you're accessing a client customer, the manager's customer id must be set in the 'login-customer-id' header. See https://developers.google.com/google-ads/api/docs/concepts/call-structure#cid",
        Vec::new(),
    )
}

/// Checks `login-customer-id` (10 digits, no dashes) and, for a connected user, that `customer`
/// is reachable: directly, or inside the subtree of the manager named in the header.
///
/// # Errors
/// `headerError: INVALID_LOGIN_CUSTOMER_ID` (400) or `USER_PERMISSION_DENIED` (403).
pub fn check_access(
    state: &AppState,
    req: &PlatformRequest,
    grantor: &Grantor,
    customer: &str,
    endpoint: &str,
) -> Result<(), Box<Outcome>> {
    let version = api_version(req);
    let login = req.header("login-customer-id");
    if let Some(login) = login.filter(|l| !ten_digits(l)) {
        let e = AdsError::new(
            "headerError",
            "INVALID_LOGIN_CUSTOMER_ID",
            &format!("The login customer ID could not be validated: {login:?}."),
            Vec::new(),
        );
        return Err(Box::new(ads_rejected(
            endpoint,
            StatusCode::BAD_REQUEST,
            &version,
            &[e],
        )));
    }
    if *grantor == Grantor::Configured {
        return Ok(());
    }
    let accounts = &state.config.google_ads_accounts;
    let direct = |id: &str| accounts.iter().any(|a| a.id == id && a.parent.is_none());
    let refusal = match login {
        None if direct(customer) => return Ok(()),
        Some(login)
            if direct(login)
                && subtree(accounts, login)
                    .iter()
                    .any(|(a, _)| a.id == customer) =>
        {
            return Ok(());
        }
        // The manager is the user's, the account is not under it.
        Some(login) if direct(login) => AdsError::new(
            "authorizationError",
            "INVALID_LOGIN_CUSTOMER_ID_SERVING_CUSTOMER_ID_COMBINATION",
            "The login customer specified does not have access to the account specified, so the request is invalid.",
            Vec::new(),
        ),
        _ => permission_denied(),
    };
    Err(Box::new(ads_rejected(
        endpoint,
        StatusCode::FORBIDDEN,
        &version,
        &[refusal],
    )))
}

/// Handles `GET /{version}/customers:listAccessibleCustomers`.
pub fn handle_list_accessible(state: &AppState, req: &PlatformRequest) -> Outcome {
    let version = api_version(req);
    let auth = check_bearer(state, req, Some(&version))
        .and_then(|_| check_developer_token(state, req, &version));
    if let Err(f) = auth {
        return Outcome::rejected(LIST, f.status, f.body, f.message, vec![f.code]);
    }
    if !req.body.is_empty() {
        let message = "The request body must be empty.";
        let body = super::google_error::rpc_error(StatusCode::BAD_REQUEST, message, Vec::new());
        return Outcome::rejected(
            LIST,
            StatusCode::BAD_REQUEST,
            body,
            message.into(),
            vec!["INVALID_ARGUMENT".into()],
        );
    }
    let names: Vec<String> = state
        .config
        .google_ads_accounts
        .iter()
        .filter(|a| a.parent.is_none())
        .map(|a| format!("customers/{}", a.id))
        .collect();
    Outcome::new(
        LIST,
        StatusCode::OK,
        Some(json!({ "resourceNames": names })),
        Verdict::Accepted,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config_accounts::default_ads_accounts;

    #[test]
    fn the_managers_subtree_holds_direct_and_indirect_clients_with_their_levels() {
        let accounts = default_ads_accounts();
        let levels: Vec<(String, u32)> = subtree(&accounts, "9998887776")
            .into_iter()
            .map(|(a, l)| (a.id.clone(), l))
            .collect();
        assert_eq!(levels[0], ("9998887776".into(), 0));
        assert!(levels.contains(&("1234567890".into(), 1)));
        assert!(levels.contains(&("4445556667".into(), 2)));
        assert!(!levels.iter().any(|(id, _)| id == "5556667778"));
    }

    #[test]
    fn a_plain_account_lists_only_itself() {
        let rows = customer_clients(&default_ads_accounts(), "1234567890");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["level"], "0");
        assert_eq!(rows[0]["descriptiveName"], "Sandbox Shop");
    }
}
