//! The shared SMS inbox: messages after a seq, and the live stream of server-sent
//! events.

use std::time::Duration;

use kaito_api::{AfterSeq, SmsMessageView, paths};

use crate::client::{TeamClient, read, unreachable};
use crate::error::TeamError;

/// Most bytes one event may take: a text message is far smaller, so more is a
/// broken or hostile stream, not a message to wait for.
const MAX_FRAME: usize = 1 << 20;

/// One server-sent event: its `event` name and its `data` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Frame {
    event: Option<String>,
    data: String,
}

/// Cuts a byte stream into server-sent events. Frames are decoded as UTF-8 only when
/// whole, so a character split across two network reads arrives intact.
#[derive(Debug, Default)]
struct Frames {
    buffer: Vec<u8>,
}

impl Frames {
    fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole frame, if the buffer holds one.
    fn next_frame(&mut self) -> Result<Option<Frame>, TeamError> {
        let Some(end) = frame_end(&self.buffer) else {
            if self.buffer.len() > MAX_FRAME {
                return Err(TeamError::Protocol(format!(
                    "an inbox event is over {MAX_FRAME} bytes"
                )));
            }
            return Ok(None);
        };
        let bytes: Vec<u8> = self.buffer.drain(..end).collect();
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| TeamError::Protocol("an inbox event is not UTF-8".to_owned()))?;
        Ok(Some(parse_frame(text)))
    }
}

/// Where the first frame ends (after its blank line), lines ending in LF, CRLF or CR.
fn frame_end(buffer: &[u8]) -> Option<usize> {
    let mut line_start = 0;
    let mut at = 0;
    while at < buffer.len() {
        let terminator = match buffer[at] {
            // A CR last in the buffer may be the first half of a CRLF still coming.
            b'\r' if at + 1 == buffer.len() => return None,
            b'\r' if buffer[at + 1] == b'\n' => 2,
            b'\n' | b'\r' => 1,
            _ => {
                at += 1;
                continue;
            }
        };
        if at == line_start {
            return Some(at + terminator);
        }
        at += terminator;
        line_start = at;
    }
    None
}

fn parse_frame(text: &str) -> Frame {
    let mut frame = Frame::default();
    let mut data: Vec<&str> = Vec::new();
    // The frame ends in its blank line, and a CRLF splits into an empty piece: both
    // are empty lines, which carry no field.
    for line in text.split(['\r', '\n']) {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        // One space after the colon belongs to the syntax, not the value.
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => frame.event = Some(value.to_owned()),
            "data" => data.push(value),
            // Comments (keep-alives: an empty field name), `id`, `retry`.
            _ => {}
        }
    }
    frame.data = data.join("\n");
    frame
}

/// The live SMS inbox: server-sent events, one `sms` event per message.
pub struct SmsStream {
    response: reqwest::Response,
    frames: Frames,
    server_url: String,
}

impl std::fmt::Debug for SmsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsStream").finish_non_exhaustive()
    }
}

impl SmsStream {
    /// The next message; `None` when the server ended the stream (signed out).
    pub async fn next(&mut self) -> Result<Option<SmsMessageView>, TeamError> {
        loop {
            while let Some(frame) = self.frames.next_frame()? {
                // Keep-alive comments and other events are skipped.
                if frame.event.as_deref() == Some("sms") {
                    return serde_json::from_str(&frame.data)
                        .map(Some)
                        .map_err(|error| {
                            TeamError::Protocol(format!("an inbox event did not parse: {error}"))
                        });
                }
            }
            match self.response.chunk().await {
                Ok(Some(chunk)) => self.frames.push(&chunk),
                Ok(None) => return Ok(None),
                Err(error) => return Err(unreachable(&self.server_url, &error)),
            }
        }
    }
}

impl TeamClient {
    /// Text messages after `after_seq` on the numbers this member may read.
    pub async fn sms_messages(&self, after_seq: i64) -> Result<Vec<SmsMessageView>, TeamError> {
        let url = format!("{}{}", self.link.server_url, paths::sms_messages());
        let query = AfterSeq { after: after_seq };
        read(
            self.send_signed_in(|token| self.http.get(&url).query(&query).bearer_auth(token))
                .await?,
        )
        .await
    }

    /// The live inbox from `after_seq` on: what arrived since comes first, then each
    /// new message as it arrives. Reopen with the last seq seen after a drop.
    pub async fn sms_stream(&self, after_seq: i64) -> Result<SmsStream, TeamError> {
        let url = format!("{}{}", self.link.server_url, paths::sms_stream());
        // No overall timeout: the stream stays open (the server sends keep-alives).
        let streaming = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|error| TeamError::Protocol(error.to_string()))?;
        let response = self
            .send_signed_in(|token| {
                streaming
                    .get(&url)
                    .bearer_auth(token)
                    .header("last-event-id", after_seq.to_string())
            })
            .await?;
        if !response.status().is_success() {
            return Err(read::<serde_json::Value>(response)
                .await
                .err()
                .unwrap_or_else(|| TeamError::Protocol("the stream did not open".to_owned())));
        }
        Ok(SmsStream {
            response,
            frames: Frames::default(),
            server_url: self.link.server_url.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames_of(chunks: &[&[u8]]) -> Vec<Frame> {
        let mut frames = Frames::default();
        let mut out = Vec::new();
        for chunk in chunks {
            frames.push(chunk);
            while let Some(frame) = frames.next_frame().unwrap() {
                out.push(frame);
            }
        }
        out
    }

    #[test]
    fn a_character_split_across_reads_arrives_whole() {
        let text = "event: sms\ndata: {\"body\":\"Код 123456 🔐\"}\n\n".as_bytes();
        // Split inside the Cyrillic letter and inside the emoji.
        let cut_a = text.iter().position(|b| *b == 0xd0).unwrap() + 1;
        let cut_b = text.len() - 6;
        let frames = frames_of(&[&text[..cut_a], &text[cut_a..cut_b], &text[cut_b..]]);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].event.as_deref(), Some("sms"));
        assert_eq!(frames[0].data, "{\"body\":\"Код 123456 🔐\"}");
    }

    #[test]
    fn frames_follow_the_event_stream_rules() {
        let frames = frames_of(&[
            b": keep-alive\n\n",
            b"event:sms\r\ndata:  two spaces\r\ndata: second line\r\n\r\n",
            b"id: 7\revent: other\rdata\r\r",
            // Only the next byte tells that last CR was no CRLF's first half.
            b": keep-alive\n\n",
        ]);
        assert_eq!(frames.len(), 4);
        assert_eq!(frames[0], Frame::default());
        assert_eq!(frames[1].event.as_deref(), Some("sms"));
        assert_eq!(frames[1].data, " two spaces\nsecond line");
        assert_eq!(frames[2].event.as_deref(), Some("other"));
        assert_eq!(frames[2].data, "");
    }

    #[test]
    fn a_crlf_split_between_reads_is_one_line_end() {
        let frames = frames_of(&[b"event: sms\r", b"\ndata: x\r", b"\n\r", b"\n"]);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].data, "x");
    }

    #[test]
    fn an_endless_frame_is_refused_not_buffered() {
        let mut frames = Frames::default();
        frames.push(b"data: ");
        frames.push(&vec![b'a'; MAX_FRAME + 1]);
        assert!(matches!(frames.next_frame(), Err(TeamError::Protocol(_))));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_an_error_not_replacement_characters() {
        let mut frames = Frames::default();
        frames.push(b"event: sms\ndata: \xff\n\n");
        assert!(matches!(frames.next_frame(), Err(TeamError::Protocol(_))));
    }
}
