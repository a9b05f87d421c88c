//! Who is acting, for the audit records the engine writes (SPEC §4.6, issue #15).
//!
//! In: the caller and the client's address of an HTTP request (set by
//! [`crate::server::http::audit`]). Out: the [`Actor`] that the engine's write transactions put
//! into their audit record. The engine runs on blocking threads, outside the request's task, so
//! the actor travels in two steps: a task-local for the request's async work, then a
//! thread-local for the blocking closure that `handlers::blocking` runs ([`run_as`]). A write
//! with no actor (the embedded engine, runed's own bookkeeping) records the caller its batch
//! names, if any.

use std::cell::RefCell;

/// The caller and its address.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Actor {
    pub caller: Option<String>,
    pub remote: Option<String>,
}

tokio::task_local! {
    static REQUEST: Actor;
}

thread_local! {
    static CURRENT: RefCell<Option<Actor>> = const { RefCell::new(None) };
}

/// Runs `future` (a request's handling) with `actor` as its actor.
pub async fn scope<F: std::future::Future>(actor: Actor, future: F) -> F::Output {
    REQUEST.scope(actor, future).await
}

/// The actor of the request whose task calls this, if any.
pub fn of_request() -> Option<Actor> {
    REQUEST.try_with(Clone::clone).ok()
}

/// Runs `work` on this thread with `actor` as the current actor, and restores the one before.
pub fn run_as<T>(actor: Option<Actor>, work: impl FnOnce() -> T) -> T {
    let before = CURRENT.with(|c| c.replace(actor));
    let out = work();
    CURRENT.with(|c| *c.borrow_mut() = before);
    out
}

/// The actor of the work running on this thread, if any.
pub fn current() -> Option<Actor> {
    CURRENT.with(|c| c.borrow().clone())
}

/// The start of an audit query: an RFC 3339 time as it is, or a duration (`1h`, `7d`) back
/// from now; nothing is the beginning.
pub fn since(text: Option<&str>) -> Result<String, String> {
    use crate::server::clock;
    match text {
        None => Ok(String::new()),
        Some(text) if clock::parse_unix(text).is_some() => Ok(text.to_owned()),
        Some(text) => {
            let back = crate::duration::parse(text)?;
            Ok(clock::format_unix(
                clock::now_unix().saturating_sub(back.as_secs()),
            ))
        }
    }
}
