//! A small HTTP/1.1 server on 127.0.0.1 for the fetch tests: canned replies per path, with
//! the faults real servers produce (errors, slowness, short bodies, reset connections, silence),
//! a mode that accepts connections and never reads them, and a log of requests.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the server answers one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// `200 OK` with this body and extra headers.
    Ok(Vec<u8>, Vec<(&'static str, &'static str)>),
    /// This status with a short text body.
    Status(u16),
    /// `200 OK` with this `ETag`, or `304 Not Modified` when `If-None-Match` carries it.
    Etag(Vec<u8>, &'static str),
    /// Waits, then answers.
    Slow(Duration, Box<Reply>),
    /// Declares `Content-Length` of the second field but sends only the body, then closes.
    Truncated(Vec<u8>, usize),
    /// Declares the body's full `Content-Length`, sends the head and the body's first `usize`
    /// bytes, pauses, then resets the connection (TCP RST, not FIN).
    ///
    /// Std has no `SO_LINGER` setter on stable, so the reset comes from the kernel rule of
    /// RFC 2525 §2.17 that Linux follows: closing a socket whose receive queue still holds
    /// unread data aborts the connection with a RST. The server reads only the request line
    /// of such a request, leaving its headers unread, and drops the socket without a
    /// `shutdown`. The client sees `ECONNRESET` ("Connection reset by peer").
    Reset(Vec<u8>, usize),
    /// Reads the request line, then resets the connection (as [`Reply::Reset`]) without
    /// answering at all.
    ResetAtOnce,
    /// Reads the request and never writes a byte; holds the connection until the client
    /// closes it (or 10 s pass).
    Hang,
    /// Declares the body's full `Content-Length`, sends the head and the body's first `usize`
    /// bytes, then goes silent like [`Reply::Hang`]: a stall mid-body.
    Stall(Vec<u8>, usize),
    /// Declares the body's full `Content-Length`, sends the head, then the body one byte per
    /// interval until it is sent or the client hangs up: a server trickling at 1 byte/interval.
    Trickle(Vec<u8>, Duration),
    /// This redirect status (301, 302, 307, 308) with this `Location`.
    Redirect(u16, String),
    /// `304 Not Modified`, whatever the request carried.
    NotModified,
    /// `405 Method Not Allowed` to `HEAD`, the inner reply to anything else.
    NoHead(Box<Reply>),
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Request {
    /// The method (`GET`, `HEAD`).
    pub method: String,
    /// The request target.
    pub path: String,
    /// Headers, names lowercased (none for [`Reply::Reset`], which leaves them unread).
    pub headers: HashMap<String, String>,
}

type Routes = Arc<Mutex<HashMap<String, VecDeque<Reply>>>>;

/// The running server; its threads end with the test process.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    routes: Routes,
    log: Arc<Mutex<Vec<Request>>>,
    deaf: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
}

impl Server {
    /// Listens on an ephemeral port of 127.0.0.1.
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let routes: Routes = Arc::default();
        let log: Arc<Mutex<Vec<Request>>> = Arc::default();
        let deaf: Arc<AtomicBool> = Arc::default();
        let connections: Arc<AtomicUsize> = Arc::default();
        let (r, l, d, c) = (
            routes.clone(),
            log.clone(),
            deaf.clone(),
            connections.clone(),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                c.fetch_add(1, Ordering::SeqCst);
                if d.load(Ordering::SeqCst) {
                    // Never read, never write: the request sits in the socket buffers.
                    std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_secs(10));
                        drop(stream);
                    });
                    continue;
                }
                let (r, l) = (r.clone(), l.clone());
                std::thread::spawn(move || serve(stream, &r, &l));
            }
        });
        Server {
            addr,
            routes,
            log,
            deaf,
            connections,
        }
    }

    /// From now on (`true`), accepts each connection and never reads from it or writes to
    /// it, holding it for 10 s; nothing is logged. `false` answers requests again.
    pub fn set_deaf(&self, deaf: bool) {
        self.deaf.store(deaf, Ordering::SeqCst);
    }

    /// Connections accepted so far, deaf or not.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// `http://HOST:PORT/path`: the same server under another host name (`localhost`), for
    /// what a client must treat as another host.
    pub fn url_on(&self, host: &str, path: &str) -> String {
        format!(
            "http://{host}:{}/{}",
            self.addr.port(),
            path.trim_start_matches('/')
        )
    }

    /// Answers requests for `path` with `replies` in turn; the last one repeats.
    pub fn route(&self, path: &str, replies: Vec<Reply>) {
        let path = format!("/{}", path.trim_start_matches('/'));
        self.routes.lock().unwrap().insert(path, replies.into());
    }

    /// The requests seen for `path`, oldest first.
    pub fn requests(&self, path: &str) -> Vec<Request> {
        let path = format!("/{}", path.trim_start_matches('/'));
        let log = self.log.lock().unwrap();
        log.iter().filter(|r| r.path == path).cloned().collect()
    }

    /// The methods of the requests seen for `path`, oldest first.
    pub fn methods(&self, path: &str) -> Vec<String> {
        self.requests(path).into_iter().map(|r| r.method).collect()
    }

    /// Forgets the requests seen so far.
    pub fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }
}

/// The request line, read a byte at a time so that nothing after it leaves the kernel's
/// receive queue (which [`Reply::Reset`] relies on).
fn request_line(mut stream: &TcpStream) -> Option<String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.len() < 8192 {
        match stream.read(&mut byte) {
            Ok(1) if byte[0] == b'\n' => return Some(String::from_utf8_lossy(&line).into_owned()),
            Ok(1) => line.push(byte[0]),
            _ => return None,
        }
    }
    None
}

fn serve(stream: TcpStream, routes: &Routes, log: &Mutex<Vec<Request>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some(line) = request_line(&stream) else {
        return;
    };
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or("GET").to_owned();
    let path = words.next().unwrap_or("/").to_owned();
    let reply = {
        let mut routes = routes.lock().unwrap();
        match routes.get_mut(&path) {
            Some(q) if q.len() > 1 => q.pop_front(),
            Some(q) => q.front().cloned(),
            None => None,
        }
    }
    .unwrap_or(Reply::Status(404));
    if let Reply::Reset(..) | Reply::ResetAtOnce = &reply {
        log.lock().unwrap().push(Request {
            method,
            path,
            headers: HashMap::new(),
        });
        let mut stream = stream;
        if let Reply::Reset(body, sent) = &reply {
            write_response(&mut stream, 200, &[], &body[..*sent], body.len());
        }
        reset(stream);
        return;
    }
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    log.lock().unwrap().push(Request {
        method: method.clone(),
        path,
        headers: headers.clone(),
    });
    let mut stream = stream;
    answer(&mut stream, &reply, &headers, method == "HEAD");
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

/// Answers one request; a `HEAD` request (`head`) gets the head alone.
fn answer(stream: &mut TcpStream, reply: &Reply, request: &HashMap<String, String>, head: bool) {
    let none: &[u8] = &[];
    let body_of = |body: &[u8]| if head { none } else { body }.to_vec();
    match reply {
        Reply::Ok(body, extra) => {
            let extra: Vec<(&str, String)> =
                extra.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
            write_response(stream, 200, &extra, &body_of(body), body.len());
        }
        Reply::Status(code) => {
            let body = format!("status {code}\n").into_bytes();
            write_response(stream, *code, &[], &body_of(&body), body.len());
        }
        Reply::Redirect(code, location) => {
            write_response(stream, *code, &[("Location", location.clone())], &[], 0);
        }
        Reply::NotModified => {
            let _ = stream.write_all(b"HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n");
        }
        Reply::NoHead(inner) => {
            if head {
                write_response(stream, 405, &[("Allow", "GET".to_owned())], &[], 0);
            } else {
                answer(stream, inner, request, head);
            }
        }
        Reply::Trickle(body, interval) => {
            write_response(stream, 200, &[], &[], body.len());
            for byte in body {
                std::thread::sleep(*interval);
                if stream.write_all(std::slice::from_ref(byte)).is_err() {
                    break;
                }
            }
        }
        Reply::Etag(body, etag) => {
            if request.get("if-none-match").map(String::as_str) == Some(*etag) {
                let head = format!(
                    "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(head.as_bytes());
            } else {
                write_response(
                    stream,
                    200,
                    &[("ETag", (*etag).to_owned())],
                    body,
                    body.len(),
                );
            }
        }
        Reply::Slow(delay, then) => {
            std::thread::sleep(*delay);
            answer(stream, then, request, head);
        }
        Reply::Truncated(body, declared) => write_response(stream, 200, &[], body, *declared),
        Reply::Hang => hold(stream),
        Reply::Stall(body, sent) => {
            write_response(stream, 200, &[], &body[..*sent], body.len());
            let _ = stream.flush();
            hold(stream);
        }
        // Answered in `serve`, before the request's headers are read.
        Reply::Reset(..) | Reply::ResetAtOnce => {
            unreachable!("a reset is answered before the request's headers are read")
        }
    }
}

/// Writes nothing more and waits until the client closes the connection (a read returns end
/// of file or fails) or 10 s pass.
fn hold(stream: &mut TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut sink = [0u8; 1024];
    while let Ok(n) = stream.read(&mut sink) {
        if n == 0 {
            break;
        }
    }
}

/// Drops the socket with the request's headers still unread, which makes the kernel reset
/// the connection (see [`Reply::Reset`]).
fn reset(stream: TcpStream) {
    // Let the whole request arrive (so that some of it is unread) and the client read what
    // was sent before the RST does.
    std::thread::sleep(Duration::from_millis(100));
    drop(stream);
}

fn write_response(
    stream: &mut TcpStream,
    code: u16,
    extra: &[(&str, String)],
    body: &[u8],
    content_length: usize,
) {
    let reason = match code {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Length: {content_length}\r\nConnection: close\r\n"
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    // The client may have given up (timeouts): errors here are expected and ignored.
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}
