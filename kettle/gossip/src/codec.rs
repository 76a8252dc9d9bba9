//! Request-response codec of the point-to-point protocol `/kettle/p2p/1`.
//!
//! Frame: 4-byte big-endian length, then one tag byte and the body. Frames above the
//! transport cap fail the stream before anything is allocated; a well-framed but malformed
//! body becomes `Malformed`, so the service can count it.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;

use crate::identity::PeerBinding;

/// The protocol name.
pub(crate) const PROTOCOL: StreamProtocol = StreamProtocol::new("/kettle/p2p/1");

const TAG_HELLO: u8 = 1;
const TAG_ENVELOPE: u8 = 2;
const TAG_ACCEPTED: u8 = 3;
const TAG_REJECTED: u8 = 4;
const TAG_GET_BLOCKS: u8 = 5;
const TAG_BLOCKS: u8 = 6;
const TAG_CURSOR: u8 = 7;

/// A point-to-point request.
#[derive(Debug, Clone)]
pub(crate) enum P2pRequest {
    /// The sender's peer binding (handshake).
    Hello(PeerBinding),
    /// A signed envelope (store writes).
    Envelope(Vec<u8>),
    /// Blocks `from..` (at most `max`), for catch-up.
    GetBlocks {
        /// First block number wanted.
        from: u64,
        /// Most blocks wanted.
        max: u32,
    },
    /// A frame that did not parse.
    Malformed,
}

/// A point-to-point response.
#[derive(Debug, Clone)]
pub(crate) enum P2pResponse {
    /// The responder's peer binding.
    Hello(PeerBinding),
    /// The envelope passed every check and was handed to the node (legacy answer).
    Accepted,
    /// The receiver's store-sync cursor for the sender after handling its write set: every
    /// commit of the sender up to this number is applied there.
    Cursor(u64),
    /// Encoded blocks (answer to [`P2pRequest::GetBlocks`]), possibly empty.
    Blocks(Vec<Vec<u8>>),
    /// The envelope was dropped (reason label).
    Rejected(String),
    /// A frame that did not parse.
    Malformed,
}

/// Length-prefixed codec with a hard frame cap.
#[derive(Debug, Clone)]
pub(crate) struct KettleCodec {
    pub(crate) max_frame: usize,
}

async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T, max: usize) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len == 0 || len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame length out of bounds",
        ));
    }
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    Ok(buf)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(
    io: &mut T,
    tag: u8,
    body: &[u8],
    max: usize,
) -> io::Result<()> {
    let len = body.len() + 1;
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "frame too large",
        ));
    }
    let len = u32::try_from(len)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(&[tag]).await?;
    io.write_all(body).await?;
    io.flush().await
}

fn decode_binding(body: &[u8]) -> Option<PeerBinding> {
    alloy_rlp::decode_exact(body).ok()
}

impl libp2p::request_response::Codec for KettleCodec {
    type Protocol = StreamProtocol;
    type Request = P2pRequest;
    type Response = P2pResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<P2pRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        let frame = read_frame(io, self.max_frame).await?;
        Ok(match frame.split_first() {
            Some((&TAG_HELLO, body)) => {
                decode_binding(body).map_or(P2pRequest::Malformed, P2pRequest::Hello)
            }
            Some((&TAG_ENVELOPE, body)) => P2pRequest::Envelope(body.to_vec()),
            Some((&TAG_GET_BLOCKS, body)) if body.len() == 12 => {
                let mut from = [0u8; 8];
                from.copy_from_slice(&body[..8]);
                let mut max = [0u8; 4];
                max.copy_from_slice(&body[8..]);
                P2pRequest::GetBlocks {
                    from: u64::from_be_bytes(from),
                    max: u32::from_be_bytes(max),
                }
            }
            _ => P2pRequest::Malformed,
        })
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<P2pResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        let frame = read_frame(io, self.max_frame).await?;
        Ok(match frame.split_first() {
            Some((&TAG_HELLO, body)) => {
                decode_binding(body).map_or(P2pResponse::Malformed, P2pResponse::Hello)
            }
            Some((&TAG_ACCEPTED, _)) => P2pResponse::Accepted,
            Some((&TAG_CURSOR, body)) if body.len() == 8 => {
                let mut c = [0u8; 8];
                c.copy_from_slice(body);
                P2pResponse::Cursor(u64::from_be_bytes(c))
            }
            Some((&TAG_BLOCKS, body)) => {
                alloy_rlp::decode_exact::<Vec<alloy_primitives::Bytes>>(body)
                    .map_or(P2pResponse::Malformed, |blocks| {
                        P2pResponse::Blocks(blocks.into_iter().map(Vec::from).collect())
                    })
            }
            Some((&TAG_REJECTED, body)) => P2pResponse::Rejected(
                String::from_utf8_lossy(&body[..body.len().min(64)]).into_owned(),
            ),
            _ => P2pResponse::Malformed,
        })
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: P2pRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match req {
            P2pRequest::Hello(b) => {
                write_frame(io, TAG_HELLO, &alloy_rlp::encode(&b), self.max_frame).await
            }
            P2pRequest::Envelope(bytes) => {
                write_frame(io, TAG_ENVELOPE, &bytes, self.max_frame).await
            }
            P2pRequest::GetBlocks { from, max } => {
                let mut body = [0u8; 12];
                body[..8].copy_from_slice(&from.to_be_bytes());
                body[8..].copy_from_slice(&max.to_be_bytes());
                write_frame(io, TAG_GET_BLOCKS, &body, self.max_frame).await
            }
            P2pRequest::Malformed => write_frame(io, 0, &[], self.max_frame).await,
        }
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: P2pResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match res {
            P2pResponse::Hello(b) => {
                write_frame(io, TAG_HELLO, &alloy_rlp::encode(&b), self.max_frame).await
            }
            P2pResponse::Accepted => write_frame(io, TAG_ACCEPTED, &[], self.max_frame).await,
            P2pResponse::Cursor(c) => {
                write_frame(io, TAG_CURSOR, &c.to_be_bytes(), self.max_frame).await
            }
            P2pResponse::Blocks(blocks) => {
                let list: Vec<alloy_primitives::Bytes> = blocks
                    .into_iter()
                    .map(alloy_primitives::Bytes::from)
                    .collect();
                write_frame(io, TAG_BLOCKS, &alloy_rlp::encode(&list), self.max_frame).await
            }
            P2pResponse::Rejected(r) => {
                write_frame(io, TAG_REJECTED, r.as_bytes(), self.max_frame).await
            }
            P2pResponse::Malformed => write_frame(io, 0, &[], self.max_frame).await,
        }
    }
}

#[cfg(test)]
mod fuzz;
