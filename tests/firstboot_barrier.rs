//! The back channel: a forged, a replayed and an unauthenticated barrier
//! message are refused and logged (tested against a running helper's
//! listener directly), and a peer that never arrives gives a timeout that
//! names what was waited for.

#[cfg(not(feature = "sim"))]
compile_error!("this test runs the helper against the simulator: build it with --features sim (scripts/test.sh does)");

mod firstboot_support;

use clusterkick::firstboot::barrier::{Kind, Message, PROTO};
use firstboot_support::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const TIMEOUT: i32 = 11;

fn key() -> Vec<u8> {
    hex::decode(KEY_HEX).expect("hex key")
}

/// Connects to the helper's listener (retrying while it starts) and returns
/// the stream with the challenge it sent.
fn connect(addr: &str) -> (TcpStream, BufReader<TcpStream>, String) {
    let start = Instant::now();
    let stream = loop {
        match TcpStream::connect(addr) {
            Ok(s) => break s,
            Err(e) if start.elapsed() < Duration::from_secs(10) => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("helper not listening on {addr}: {e}"),
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("challenge");
    let challenge = line
        .trim()
        .strip_prefix(&format!("{PROTO} CHALLENGE "))
        .unwrap_or_else(|| panic!("no challenge: {line:?}"))
        .to_string();
    (stream, reader, challenge)
}

fn send(addr: &str, make: impl FnOnce(&str) -> String) -> String {
    let (mut stream, mut reader, challenge) = connect(addr);
    let line = make(&challenge);
    writeln!(stream, "{line}").expect("send");
    let mut answer = String::new();
    reader.read_line(&mut answer).expect("answer");
    answer.trim().to_string()
}

fn request(challenge: &str, nonce: &str) -> Message {
    Message {
        kind: Kind::Req,
        from: "an-node02.alteeve.com".into(),
        to: "an-node01.alteeve.com".into(),
        at: 0,
        barrier: "meet".into(),
        nonce: nonce.into(),
        challenge: challenge.into(),
        info: String::new(),
        halt: None,
    }
}

#[test]
fn firstboot_barrier_refuses_forged_replayed_and_unauthenticated() {
    let pair = Pair::new(|_, c| {
        c.timeouts.peer_secs = 6;
        // Bounds how long it tries to tell the (fake) peer it stopped.
        c.timeouts.barrier_secs = 2;
    });
    // Only node 1 runs; the test plays a (mis)behaving node 2.
    let child = pair.spawn(0, &[]);
    let addr = pair.cfgs[0].listen.clone();
    let key = key();

    // Unauthenticated: no MAC at all.
    let got = send(&addr, |c| {
        let line = request(c, &"01".repeat(16)).encode(&key);
        line.rsplit_once(" mac=")
            .map(|x| x.0.to_string())
            .unwrap_or(line)
    });
    assert_eq!(got, format!("{PROTO} REFUSED unauthenticated"));

    // Forged: signed with another key.
    let got = send(&addr, |c| {
        request(c, &"02".repeat(16)).encode(b"not the cluster key!")
    });
    assert_eq!(got, format!("{PROTO} REFUSED forged"));

    // Forged: a valid message altered after signing.
    let got = send(&addr, |c| {
        request(c, &"03".repeat(16))
            .encode(&key)
            .replace("at=0", "at=9")
    });
    assert_eq!(got, format!("{PROTO} REFUSED forged"));

    // A genuine message is acknowledged with a MAC'd ACK echoing our nonce.
    let mut genuine = String::new();
    let got = send(&addr, |c| {
        genuine = request(c, &"04".repeat(16)).encode(&key);
        genuine.clone()
    });
    let ack = Message::decode(&got, &key).expect("authenticated ACK");
    assert_eq!(ack.kind, Kind::Ack);
    assert_eq!(ack.from, "an-node01.alteeve.com");
    assert_eq!(ack.challenge, "04".repeat(16));

    // Replayed: the same bytes on a new connection (another challenge).
    let got = send(&addr, |_| genuine.clone());
    assert_eq!(got, format!("{PROTO} REFUSED stale"));

    // Replayed: the same nonce, correctly signed for the new challenge.
    let got = send(&addr, |c| request(c, &"04".repeat(16)).encode(&key));
    assert_eq!(got, format!("{PROTO} REFUSED replayed"));

    // Someone else's message, correctly signed: refused too.
    let got = send(&addr, |c| {
        let mut m = request(c, &"05".repeat(16));
        m.from = "intruder.example.com".into();
        m.encode(&key)
    });
    assert_eq!(got, format!("{PROTO} REFUSED unknown-sender"));

    // Node 2's helper never answers on its own address: node 1 times out,
    // naming what it waited for.
    let code = code(wait(child, RUN_TIMEOUT));
    assert_eq!(code, TIMEOUT, "{}", pair.dump());
    let log = pair.log(0);
    for want in [
        "refused barrier message from 127.0.0.1:",
        ": unauthenticated (no MAC)",
        ": forged (bad MAC)",
        ": stale (answers another challenge: replayed?)",
        ": replayed (nonce already seen)",
        ": from unknown sender \"intruder.example.com\"",
        &format!(
            "timed out after 6 s waiting for an-node02.alteeve.com ({}) to reach barrier meet",
            pair.cfgs[0].peer_addr
        ),
    ] {
        assert!(log.contains(want), "log lacks {want:?}:\n{log}");
    }
    assert!(!log.contains(KEY_HEX));
    // Nothing ran on the node.
    assert!(pair.world().commands("an-node01", "").is_empty());
}

#[test]
fn firstboot_barrier_peer_never_arrives() {
    let pair = Pair::new(|_, c| {
        c.timeouts.peer_secs = 2;
        c.timeouts.retry_max_ms = 500;
    });
    let start = Instant::now();
    let code = code(wait(pair.spawn(1, &[]), RUN_TIMEOUT));
    assert_eq!(code, TIMEOUT, "{}", pair.dump());
    assert!(start.elapsed() < Duration::from_secs(20));
    let log = pair.log(1);
    let want = format!(
        "stopped (exit 11): timed out after 2 s waiting for an-node01.alteeve.com ({}) to reach barrier meet (last seen: connecting to {}",
        pair.cfgs[1].peer_addr, pair.cfgs[1].peer_addr
    );
    assert!(log.contains(&want), "log lacks {want:?}:\n{log}");
    assert!(log.contains("waiting up to 2 s at barrier meet for an-node01.alteeve.com"));
    assert!(pair.world().commands("an-node02", "").is_empty());
}

#[test]
fn firstboot_barrier_peer_stops_coming_later() {
    // The peer helper dies for good mid-way (crash, never restarted): the
    // survivor times out at the next barrier, naming it.
    let pair = Pair::new(|_, c| {
        c.timeouts.barrier_secs = 3;
    });
    pair.update_world(|w| w.node_mut("an-node02").faults.crash_after_change = Some(1));
    let a = pair.spawn(0, &[]);
    let b = pair.spawn(1, &[]);
    assert_eq!(
        code(wait(b, RUN_TIMEOUT)),
        clusterkick::firstboot::sim::CRASH_EXIT
    );
    assert_eq!(code(wait(a, RUN_TIMEOUT)), TIMEOUT, "{}", pair.dump());
    let log = pair.log(0);
    assert!(
        log.contains("timed out after 3 s waiting for an-node02.alteeve.com")
            && log.contains("to reach barrier drbd-md"),
        "{log}"
    );
}
