//! Latency histograms and the forms they travel in.
//!
//! Every latency and lag histogram of a run has the same bounds (1 µs to an
//! hour, 3 significant digits), so any two add up exactly: that is what
//! makes shards, threads and seconds merge without approximation. A report
//! carries them in the standard HdrHistogram V2 compressed form, base64
//! (`HISTF…`), which the HdrHistogram libraries of Java, Go, Python, C and
//! Rust read; in memory, a closed second of the timeline is kept in the
//! plain V2 form, a few hundred bytes instead of the ~190 KB of counts.
//! Encoding is the `hdrhistogram` crate's serializers, never our own.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{
    Deserializer, Serializer as _, V2DeflateSerializer, V2Serializer,
};

/// Highest latency kept exactly: one hour, in microseconds.
pub const MAX_LATENCY_US: u64 = 3_600_000_000;

/// An empty histogram of microseconds, 1 µs to an hour, 3 significant
/// digits: the bounds of every latency and lag histogram, so any two merge.
pub fn histogram_us() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("static histogram bounds are valid")
}

/// Records `d` in microseconds (at least 1, at most the histogram's top).
pub fn record_us(h: &mut Histogram<u64>, d: Duration) {
    let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    h.saturating_record(us.max(1));
}

/// The V2 compressed, base64 form of `h` (`HISTF…`).
pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .expect("a histogram of u64 counts serializes into memory");
    STANDARD.encode(bytes)
}

/// Reads the base64 V2 form (compressed or not) into a histogram with our
/// bounds; the error says what is wrong with the text.
pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|e| format!("not base64 ({e})"))?;
    unpack(&bytes)
}

/// The plain V2 form of `h`, to keep a closed second small in memory.
pub fn pack(h: &Histogram<u64>) -> Vec<u8> {
    let mut bytes = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut bytes)
        .expect("a histogram of u64 counts serializes into memory");
    bytes
}

/// Reads a V2 form (plain or compressed) into a histogram with our bounds.
pub fn unpack(bytes: &[u8]) -> Result<Histogram<u64>, String> {
    let read: Histogram<u64> = Deserializer::new()
        .deserialize(&mut &bytes[..])
        .map_err(|e| format!("not an HdrHistogram V2 encoding ({e:?})"))?;
    let mut h = histogram_us();
    h.add(&read)
        .map_err(|e| format!("values outside 1 µs..1 h ({e:?})"))?;
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_travel_as_histf_and_come_back_whole() {
        let mut h = histogram_us();
        for us in [1, 250, 1_000, 1_000, 45_678, 3_000_000] {
            h.record(us).unwrap();
        }
        let text = encode(&h);
        assert!(text.starts_with("HISTF"), "{text}");
        assert_eq!(decode(&text).unwrap(), h);
        assert_eq!(unpack(&pack(&h)).unwrap(), h);
        assert_eq!(decode(&encode(&histogram_us())).unwrap().len(), 0);
        assert!(decode("HISTF!!").unwrap_err().contains("base64"));
        assert!(decode("aGVsbG8=").unwrap_err().contains("HdrHistogram"));
    }
}
