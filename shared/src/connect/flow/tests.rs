use super::*;

fn flow(stage: Stage) -> Flow {
    Flow {
        provider: Provider::Google,
        session_tag: session_tag("cookie-a"),
        stage,
        started_at_ms: 1_000,
    }
}

#[test]
fn a_started_flow_continues_in_the_session_that_started_it() {
    let f = flow(Stage::Started);
    let tag = session_tag("cookie-a");
    assert_eq!(
        check(Some(&f), Provider::Google, Stage::Started, &tag, 2_000),
        Ok(())
    );
}

/// RFC 6749 §10.12: the state binds the callback to the user-agent's authenticated state.
#[test]
fn a_callback_from_another_console_session_is_refused() {
    let f = flow(Stage::Started);
    let other = session_tag("cookie-b");
    assert_eq!(
        check(Some(&f), Provider::Google, Stage::Started, &other, 2_000),
        Err(ConnectError::OtherSession("Google"))
    );
}

#[test]
fn an_unknown_used_expired_or_foreign_state_is_refused() {
    let tag = session_tag("cookie-a");
    let unknown = Err(ConnectError::UnknownState("Google"));
    assert_eq!(
        check(None, Provider::Google, Stage::Started, &tag, 2_000),
        unknown
    );
    // A replayed callback: the flow is already granted.
    let used = flow(Stage::Granted);
    assert_eq!(
        check(Some(&used), Provider::Google, Stage::Started, &tag, 2_000),
        unknown
    );
    let f = flow(Stage::Started);
    assert_eq!(
        check(
            Some(&f),
            Provider::Google,
            Stage::Started,
            &tag,
            1_000 + FLOW_TTL_MS + 1
        ),
        unknown
    );
    assert_eq!(
        check(Some(&f), Provider::Meta, Stage::Started, &tag, 2_000),
        Err(ConnectError::UnknownState("Meta"))
    );
}

#[test]
fn the_state_is_stored_only_as_a_hash() {
    let h = state_hash("s3cr3t-state");
    assert_eq!(h.len(), 64);
    assert!(!h.contains("s3cr3t"));
    assert_ne!(h, state_hash("other"));
}

#[test]
fn callback_reads_code_and_state_or_the_error() {
    assert_eq!(
        Callback::from_query([("state", "s"), ("code", "c"), ("scope", "x")]),
        Callback::Code {
            code: "c".into(),
            state: "s".into()
        }
    );
    // RFC 6749 §4.1.2.1; Meta's cancel adds error_reason and error_description.
    assert_eq!(
        Callback::from_query([
            ("error", "access_denied"),
            ("error_reason", "user_denied"),
            ("state", "s")
        ]),
        Callback::Denied {
            error: "access_denied".into(),
            state: "s".into()
        }
    );
    assert_eq!(Callback::from_query([("code", "c")]), Callback::Malformed);
    let long = "x".repeat(5000);
    assert_eq!(
        Callback::from_query([("code", long.as_str()), ("state", "s")]),
        Callback::Malformed
    );
}
