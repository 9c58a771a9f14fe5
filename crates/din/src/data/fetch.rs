//! Downloads (feature `fetch`): the tutorial's 100-row sample CSV and the raw 2014 Amazon
//! Electronics files. Files are streamed to a temporary file and renamed into place only when the
//! download completed, so an interrupted download never leaves a truncated file behind.
//!
//! ```
//! use din::data::fetch::download;
//! let out = std::env::temp_dir().join(format!("din-fetch-doc-{}.csv", std::process::id()));
//! // offline: an unsupported scheme fails before any connection; the error names the URL
//! let e = download("ftp://example.com/sample.csv", &out, |_, _| {}).unwrap_err().to_string();
//! assert!(e.starts_with("download ftp://example.com/sample.csv: "), "{e}");
//! assert!(e.contains("unknown scheme"), "{e}");
//! assert!(!out.exists()); // a failed download leaves no file behind
//! ```

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};

/// Where torch-rechub keeps the tutorial's sample file.
pub const SAMPLE_URL: &str = "https://raw.githubusercontent.com/datawhalechina/torch-rechub/main/examples/ranking/data/amazon-electronics/amazon_electronics_sample.csv";
/// The 5-core Electronics reviews (McAuley et al., 2014), as used by the DIN paper.
pub const REVIEWS_URL: &str =
    "http://snap.stanford.edu/data/amazon/productGraph/categoryFiles/reviews_Electronics_5.json.gz";
/// The Electronics metadata (Python dict literal per line).
pub const META_URL: &str =
    "http://snap.stanford.edu/data/amazon/productGraph/categoryFiles/meta_Electronics.json.gz";

/// Download `url` to `out` (atomically). `progress(done, total)` is called as bytes arrive.
/// Returns the number of bytes written.
pub fn download(url: &str, out: &Path, mut progress: impl FnMut(u64, Option<u64>)) -> Result<u64> {
    let err = |msg: String| Error::Download {
        url: url.to_string(),
        msg,
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_body(Some(Duration::from_secs(120)))
        .build()
        .into();
    let resp = agent.get(url).call().map_err(|e| err(e.to_string()))?;
    let total = resp.body().content_length();
    let mut reader = resp.into_body().into_reader();
    let mut done = 0u64;
    crate::io::write_atomic(out, |w| {
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            w.write_all(&buf[..n])?;
            done += n as u64;
            progress(done, total);
        }
        if let Some(t) = total {
            if done != t {
                return Err(std::io::Error::other(format!(
                    "connection closed after {done} of {t} bytes"
                )));
            }
        }
        Ok(())
    })
    .map_err(|e| err(e.to_string()))?;
    Ok(done)
}

/// Download the tutorial's sample CSV and check that it has the tutorial's schema.
pub fn fetch_sample(url: &str, out: &Path) -> Result<super::Events> {
    download(url, out, |_, _| {})?;
    match super::Events::read_csv(out) {
        Ok(ev) => Ok(ev),
        Err(e) => {
            let _ = std::fs::remove_file(out);
            Err(Error::Download {
                url: url.to_string(),
                msg: format!("the downloaded file is not the tutorial's CSV ({e})"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;

    /// Serve one canned HTTP response per connection on 127.0.0.1.
    fn serve(responses: Vec<Vec<u8>>) -> String {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            for resp in responses {
                let (mut s, _) = l.accept().unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                while r.read_line(&mut line).unwrap() > 2 {
                    line.clear();
                }
                let _ = s.write_all(&resp);
            }
        });
        format!("http://{addr}/amazon_electronics_sample.csv")
    }

    fn ok(body: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    #[test]
    fn downloads_sample_from_local_server() {
        let body = "user_id,item_id,time,cate_id\n0,13179,1400457600,584\n0,29247,1400457601,339\n";
        let url = serve(vec![
            ok(body),
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
            ok("<html>not a csv</html>"),
            b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\npartial".to_vec(),
        ]);
        let dir = crate::io::test_dir("fetch");
        let out = dir.join("sample.csv");
        let ev = fetch_sample(&url, &out).unwrap();
        assert_eq!(ev.len(), 2);
        assert_eq!(std::fs::read_to_string(&out).unwrap(), body);

        let out2 = dir.join("missing.csv");
        let e = fetch_sample(&url, &out2).unwrap_err().to_string();
        assert!(e.contains("404"), "{e}");
        assert!(!out2.exists());
        let e = fetch_sample(&url, &out2).unwrap_err().to_string();
        assert!(e.contains("not the tutorial's CSV"), "{e}");
        assert!(!out2.exists());
        let e = download(&url, &out2, |_, _| {}).unwrap_err().to_string();
        assert!(e.contains("download"), "{e}");
        assert!(
            !out2.exists(),
            "a truncated download must not be left behind"
        );
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1);
    }
}
