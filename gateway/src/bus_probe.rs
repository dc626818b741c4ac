//! Round trips on the bus measured from Rust (benchmarks/bus_latency.py): an echo that
//! decodes each message and publishes it again, as core.bus's echo does, and a pinger that
//! times each message to its echo. Both speak core.bus's messages on the same Zenoh stack as
//! the fast path.

use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use zenoh::pubsub::Subscriber;
use zenoh::qos::CongestionControl;
use zenoh::{Session, Wait};

use crate::bus_messages::{decode, encode, BusMessage, Heartbeat};
use crate::clock::{format_micros, now_micros};
use crate::fast_path::{open_session, BusEndpoints};

pub struct Echo {
    session: Session,
    subscriber: Option<Subscriber<()>>,
}

impl Echo {
    pub fn start(endpoints: &BusEndpoints, ping: &str, pong: &str) -> Result<Echo, String> {
        let session = open_session(endpoints)?;
        let publisher = session
            .declare_publisher(pong.to_string())
            .congestion_control(CongestionControl::Block)
            .express(true)
            .wait()
            .map_err(|e| e.to_string())?;
        let subscriber = session
            .declare_subscriber(ping.to_string())
            .callback(move |sample| {
                if let Ok(message) = decode(&sample.payload().to_bytes()) {
                    let _ = publisher.put(encode(&message)).wait();
                }
            })
            .wait()
            .map_err(|e| e.to_string())?;
        Ok(Echo {
            session,
            subscriber: Some(subscriber),
        })
    }

    pub fn close(mut self) {
        if let Some(s) = self.subscriber.take() {
            let _ = s.undeclare().wait();
        }
        let _ = self.session.close().wait();
    }
}

/// `rounds` round trips after `warmup`, each a heartbeat out on `ping` and its echo back on
/// `pong`, decoded; waits `settle` first for the peers to meet. Seconds per round trip.
pub fn ping(
    endpoints: &BusEndpoints,
    ping: &str,
    pong: &str,
    rounds: usize,
    warmup: usize,
    settle: Duration,
) -> Result<Vec<f64>, String> {
    let session = open_session(endpoints)?;
    let (tx, rx) = channel();
    let subscriber = session
        .declare_subscriber(pong.to_string())
        .callback(move |sample| {
            if let Ok(BusMessage::Heartbeat(beat)) = decode(&sample.payload().to_bytes()) {
                let _ = tx.send(beat.seq);
            }
        })
        .wait()
        .map_err(|e| e.to_string())?;
    let publisher = session
        .declare_publisher(ping.to_string())
        .congestion_control(CongestionControl::Block)
        .express(true)
        .wait()
        .map_err(|e| e.to_string())?;
    std::thread::sleep(settle);
    let mut samples = Vec::with_capacity(rounds);
    for seq in 0..(rounds + warmup) as u64 {
        let start = Instant::now();
        let beat = BusMessage::Heartbeat(Heartbeat {
            ts: format_micros(now_micros()),
            trace_id: format!("{seq:032x}"),
            agent: "bench".into(),
            seq,
            pid: 0,
            state: "ok".into(),
        });
        publisher
            .put(encode(&beat))
            .wait()
            .map_err(|e| e.to_string())?;
        loop {
            match rx.recv_timeout(Duration::from_secs(2)) {
                Ok(got) if got == seq => break,
                Ok(_) => continue,
                Err(_) => return Err(format!("ping {seq} got no echo")),
            }
        }
        if seq as usize >= warmup {
            samples.push(start.elapsed().as_secs_f64());
        }
    }
    let _ = subscriber.undeclare().wait();
    let _ = publisher.undeclare().wait();
    let _ = session.close().wait();
    Ok(samples)
}
