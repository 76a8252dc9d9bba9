//! The minimal HTTP/1.1 server behind the test endpoints ([`crate::TestRelay`],
//! [`crate::BundleEndpoint`]): one accept thread on `127.0.0.1:<free port>`, one thread per
//! connection (a slow client cannot stall the others), one request per connection
//! (`Connection: close`), JSON responses. Each endpoint only supplies what it does with a
//! request; tests use it directly for one-off servers ([`LoopbackServer::start`]).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Time limit of reading or writing one request.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A server on a free loopback port running `handle` for every connection; stops on drop.
#[derive(Debug)]
pub struct LoopbackServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LoopbackServer {
    /// Binds `127.0.0.1:0` and serves; `name` names the threads. `handle` gets each
    /// connection with read and write timeouts set.
    pub fn start(
        name: &str,
        handle: impl Fn(&mut TcpStream) -> std::io::Result<()> + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
        let addr = listener.local_addr().expect("local addr");
        let stop = Arc::new(AtomicBool::new(false));
        let (stopping, handle, conn_name) =
            (stop.clone(), Arc::new(handle), format!("{name}-conn"));
        let thread = std::thread::Builder::new()
            .name(format!("{name}-{}", addr.port()))
            .spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(mut stream) = stream else { continue };
                    let handle = handle.clone();
                    let _ = std::thread::Builder::new()
                        .name(conn_name.clone())
                        .spawn(move || {
                            let _ = stream
                                .set_read_timeout(Some(IO_TIMEOUT))
                                .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)))
                                .and_then(|()| handle(&mut stream));
                        });
                }
            })
            .expect("spawning the server thread");
        Self {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // wake the blocking accept
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Locks `m`, taking the data of a poisoned lock (recorded test data stays readable).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One parsed request.
#[derive(Debug)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target (`/path?query`).
    pub path: String,
    /// Header lines, in order.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl Request {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Writes a JSON response with `status` and closes the exchange.
pub fn respond(stream: &mut TcpStream, status: u16, body: &str) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

/// Reads one HTTP/1.1 request: request line, headers, and a body of at most `max_body` bytes
/// framed by `Content-Length` or `Transfer-Encoding: chunked`.
pub fn read_request(stream: &mut TcpStream, max_body: usize) -> Result<Request, String> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| format!("reading the request line: {e}"))?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
        return Err(format!("malformed request line {line:?}"));
    };
    let (method, path) = (method.to_owned(), path.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader
            .read_line(&mut header)
            .map_err(|e| format!("reading headers: {e}"))?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            return Err(format!("malformed header {header:?}"));
        };
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let mut request = Request {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            let mut size_line = String::new();
            reader
                .read_line(&mut size_line)
                .map_err(|e| format!("reading a chunk size: {e}"))?;
            let size_hex = size_line.trim().split(';').next().unwrap_or_default();
            let size = usize::from_str_radix(size_hex, 16)
                .map_err(|_| format!("bad chunk size {size_line:?}"))?;
            if size == 0 {
                // trailers until the empty line
                loop {
                    let mut trailer = String::new();
                    let n = reader
                        .read_line(&mut trailer)
                        .map_err(|e| format!("reading trailers: {e}"))?;
                    if n == 0 || trailer.trim_end().is_empty() {
                        break;
                    }
                }
                break;
            }
            if request.body.len() + size > max_body {
                return Err("body too large".into());
            }
            let start = request.body.len();
            request.body.resize(start + size, 0);
            reader
                .read_exact(&mut request.body[start..])
                .map_err(|e| format!("reading a chunk: {e}"))?;
            let mut crlf = [0u8; 2];
            reader
                .read_exact(&mut crlf)
                .map_err(|e| format!("reading a chunk end: {e}"))?;
        }
    } else if let Some(len) = request.header("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| format!("bad Content-Length {len:?}"))?;
        if len > max_body {
            return Err("body too large".into());
        }
        request.body.resize(len, 0);
        reader
            .read_exact(&mut request.body)
            .map_err(|e| format!("reading the body: {e}"))?;
    }
    Ok(request)
}
