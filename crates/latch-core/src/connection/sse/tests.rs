//! The legacy SSE transport's pure parts: endpoints, previews, the event size limit.

use super::*;

#[test]
fn limiter_counts_one_event_at_a_time() {
    let mut limiter = EventSizeLimiter::new(20);
    assert_eq!(limiter.observe(b"data: 0123456789\n\n"), Ok(()));
    assert_eq!(limiter.observe(b"data: 0123456789\r\n\r\n"), Ok(()));
    // Finished comment lines are not kept by the parser, so they do not add up.
    for _ in 0..5 {
        assert_eq!(limiter.observe(b": comment, 15 b\n"), Ok(()));
    }
    assert_eq!(limiter.observe(b"\ndata: 01234"), Ok(()));
    assert_eq!(limiter.observe(b"56789\n"), Ok(()));
    assert_eq!(limiter.observe(b"data: more\n"), Err(0));
}

#[test]
fn limiter_passes_the_complete_events_before_an_oversized_one() {
    let mut limiter = EventSizeLimiter::new(20);
    let chunk = b"data: a\r\n\r\ndata: b\n\ndata: 0123456789abcdefghij\n\n";
    let complete = limiter.observe(chunk).unwrap_err();
    assert_eq!(&chunk[..complete], b"data: a\r\n\r\ndata: b\n\n");
}

#[test]
fn limiter_stops_a_line_without_end() {
    let mut limiter = EventSizeLimiter::new(8);
    assert_eq!(limiter.observe(b"data: 0123456789"), Err(0));
}

#[test]
fn preview_is_bounded_and_single_line() {
    let long = "x".repeat(1000);
    let shown = preview(&long, PREVIEW_CHARS);
    assert_eq!(shown.chars().count(), PREVIEW_CHARS);
    assert!(shown.ends_with('…'));
    assert_eq!(preview("a\n  b\tc", 10), "a b c");
    assert_eq!(preview("abcdef", 6), "abcdef");
    assert_eq!(preview("abcdefg", 6), "abcde…");
}

#[test]
fn endpoint_must_share_the_origin() {
    let sse = Url::parse("http://127.0.0.1:8080/sse?token=x").unwrap();
    let ok = resolve_endpoint(&sse, "/message?sessionId=1").unwrap();
    assert_eq!(ok.as_str(), "http://127.0.0.1:8080/message?sessionId=1");
    assert!(resolve_endpoint(&sse, "http://127.0.0.1:8080/m").is_ok());
    for other in [
        "http://127.0.0.1:8081/m",
        "https://127.0.0.1:8080/m",
        "//evil.example/m",
        "data:text/plain,x",
    ] {
        assert!(
            matches!(
                resolve_endpoint(&sse, other),
                Err(SseTransportError::CrossOriginEndpoint { .. })
            ),
            "{other} must be refused"
        );
    }
}

#[test]
fn redacted_url_hides_query_and_credentials() {
    let url = Url::parse("https://user:pw@example.com/sse?key=secret").unwrap();
    assert_eq!(redacted_url(&url), "https://example.com/sse?…");
}

#[test]
fn status_text_has_the_shape_the_core_parses() {
    assert_eq!(describe_status(404, ""), "HTTP 404 Not Found");
    assert_eq!(
        describe_status(500, "boom"),
        "HTTP 500 Internal Server Error: boom"
    );
}
