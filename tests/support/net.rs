//! Ports on loopback addresses.

use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// A TCP port free on `ip` (a loopback address) right now.
pub fn free_port(ip: &str) -> u16 {
    TcpListener::bind((ip, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port on {ip}: {e}"))
}

/// Waits (up to 5 s) until something listens on `ip`:`port`.
pub fn wait_for_port(ip: &str, port: u16) {
    for _ in 0..100 {
        if TcpStream::connect((ip, port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on {ip}:{port}");
}
