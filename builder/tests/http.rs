//! A small HTTP/1.1 server on 127.0.0.1 for the fetch tests: canned replies per path, with
//! the faults real servers produce (errors, slowness, short bodies), and a log of requests.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
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
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Request {
    /// The request target.
    pub path: String,
    /// Headers, names lowercased.
    pub headers: HashMap<String, String>,
}

type Routes = Arc<Mutex<HashMap<String, VecDeque<Reply>>>>;

/// The running server; its threads end with the test process.
pub struct Server {
    addr: SocketAddr,
    routes: Routes,
    log: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// Listens on an ephemeral port of 127.0.0.1.
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let routes: Routes = Arc::default();
        let log: Arc<Mutex<Vec<Request>>> = Arc::default();
        let (r, l) = (routes.clone(), log.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, l) = (r.clone(), l.clone());
                std::thread::spawn(move || serve(stream, &r, &l));
            }
        });
        Server { addr, routes, log }
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
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

    /// Forgets the requests seen so far.
    pub fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }
}

fn serve(stream: TcpStream, routes: &Routes, log: &Mutex<Vec<Request>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
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
    let reply = {
        let mut routes = routes.lock().unwrap();
        match routes.get_mut(&path) {
            Some(q) if q.len() > 1 => q.pop_front(),
            Some(q) => q.front().cloned(),
            None => None,
        }
    }
    .unwrap_or(Reply::Status(404));
    log.lock().unwrap().push(Request {
        path,
        headers: headers.clone(),
    });
    let mut stream = stream;
    answer(&mut stream, &reply, &headers);
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

fn answer(stream: &mut TcpStream, reply: &Reply, request: &HashMap<String, String>) {
    match reply {
        Reply::Ok(body, extra) => {
            let extra: Vec<(&str, String)> =
                extra.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
            write_response(stream, 200, &extra, body, body.len());
        }
        Reply::Status(code) => {
            let body = format!("status {code}\n").into_bytes();
            write_response(stream, *code, &[], &body, body.len());
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
            answer(stream, then, request);
        }
        Reply::Truncated(body, declared) => write_response(stream, 200, &[], body, *declared),
    }
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
        404 => "Not Found",
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
