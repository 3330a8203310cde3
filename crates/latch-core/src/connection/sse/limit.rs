//! The size limit on the legacy SSE transport's event stream: the `GET` response body fails as
//! soon as one event grows past the limit, before the SSE parser buffers it, with the complete
//! events before it still passed on.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use futures::{Stream, StreamExt, stream::BoxStream};

/// Why the size-limited body ended.
#[derive(Debug, thiserror::Error)]
pub(super) enum BodyError {
    #[error("{0}")]
    Read(#[source] reqwest::Error),
    #[error("an event exceeded the maximum size of {max_size} bytes")]
    TooLarge { max_size: usize },
}

/// The `GET` response body, failing as soon as one event grows past the limit, before the SSE
/// parser buffers it. The complete events before the oversized one are still passed on.
pub(super) struct SizeLimited {
    inner: BoxStream<'static, reqwest::Result<Bytes>>,
    limiter: EventSizeLimiter,
    /// The next poll reports `TooLarge` (a chunk's complete events went out first).
    too_large_next: bool,
    failed: bool,
}

impl SizeLimited {
    pub(super) fn new(
        inner: BoxStream<'static, reqwest::Result<Bytes>>,
        max_event_size: usize,
    ) -> Self {
        Self {
            inner,
            limiter: EventSizeLimiter::new(max_event_size),
            too_large_next: false,
            failed: false,
        }
    }

    fn too_large(&mut self) -> Poll<Option<Result<Bytes, BodyError>>> {
        self.failed = true;
        Poll::Ready(Some(Err(BodyError::TooLarge {
            max_size: self.limiter.max_size,
        })))
    }
}

impl Stream for SizeLimited {
    type Item = Result<Bytes, BodyError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.failed {
            return Poll::Ready(None);
        }
        if std::mem::take(&mut this.too_large_next) {
            return this.too_large();
        }
        match this.inner.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Err(error))) => {
                this.failed = true;
                Poll::Ready(Some(Err(BodyError::Read(error.without_url()))))
            }
            Poll::Ready(Some(Ok(chunk))) => match this.limiter.observe(&chunk) {
                Ok(()) => Poll::Ready(Some(Ok(chunk))),
                Err(0) => this.too_large(),
                Err(complete) => {
                    this.too_large_next = true;
                    Poll::Ready(Some(Ok(chunk.slice(..complete))))
                }
            },
        }
    }
}

/// Counts the bytes the SSE parser keeps for the current event (field lines; comment lines
/// only while unfinished) across chunks; a blank line starts a new event. Lines end with CR,
/// LF or CRLF.
#[derive(Debug)]
pub(super) struct EventSizeLimiter {
    max_size: usize,
    retained: usize,
    line: usize,
    line_is_comment: bool,
    after_cr: bool,
}

impl EventSizeLimiter {
    pub(super) fn new(max_size: usize) -> Self {
        Self {
            max_size,
            retained: 0,
            line: 0,
            line_is_comment: false,
            after_cr: false,
        }
    }

    /// Feed a chunk. Once the current event (or line) exceeds the limit: `Err(n)`, where the
    /// chunk's first `n` bytes end with a blank line (complete events, safe to parse).
    pub(super) fn observe(&mut self, chunk: &[u8]) -> Result<(), usize> {
        let mut complete = 0;
        for (i, &byte) in chunk.iter().enumerate() {
            if std::mem::take(&mut self.after_cr) && byte == b'\n' {
                continue;
            }
            match byte {
                b'\r' | b'\n' => {
                    if self.line == 0 {
                        complete = i + 1;
                    }
                    self.end_line();
                    self.after_cr = byte == b'\r';
                }
                _ => {
                    if self.line == 0 {
                        self.line_is_comment = byte == b':';
                    }
                    self.line += 1;
                }
            }
            if self.retained.saturating_add(self.line) > self.max_size {
                return Err(complete);
            }
        }
        Ok(())
    }

    fn end_line(&mut self) {
        if self.line == 0 {
            self.retained = 0;
        } else if !self.line_is_comment {
            // The parser joins data lines with a newline.
            self.retained = self.retained.saturating_add(self.line + 1);
        }
        self.line = 0;
        self.line_is_comment = false;
    }
}
