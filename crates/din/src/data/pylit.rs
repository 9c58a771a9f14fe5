//! A parser for Python literals (`repr` of dicts, lists, tuples, strings, numbers, `True`,
//! `False`, `None`), the format of the 2014 Amazon metadata dumps: one dict per line, single
//! quotes, not JSON. Values come back as [`serde_json::Value`] (tuples become arrays).
//!
//! ```
//! let v = din::data::pylit::parse("{'asin': 'B01', 'price': 9.5, 'tags': ('a', 'b'), 'ok': True}").unwrap();
//! assert_eq!(v["asin"], "B01");
//! assert_eq!(v["price"], 9.5);
//! assert_eq!(v["tags"][1], "b"); // a tuple becomes an array
//! assert_eq!(v["ok"], true);
//! ```

use serde_json::{Map, Number, Value};

use crate::error::Error;

/// Parse one Python literal. The error ([`Error::Literal`]) says at which byte offset and why.
pub fn parse(text: &str) -> crate::Result<Value> {
    parse_str(text).map_err(Error::Literal)
}

fn parse_str(text: &str) -> Result<Value, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        src: text,
        i: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("unexpected trailing text at byte {}", p.i));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
    depth: usize,
}

const MAX_DEPTH: usize = 256;

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at byte {}", self.i))
    }

    fn value(&mut self) -> Result<Value, String> {
        self.ws();
        match self.peek() {
            None => self.err("unexpected end of input"),
            Some(b'{') => self.nested(|p| p.dict()),
            Some(b'[') => self.nested(|p| p.seq(b']')),
            Some(b'(') => self.nested(|p| p.seq(b')')),
            Some(b'\'') | Some(b'"') => self.string().map(Value::String),
            Some(b'u') | Some(b'r') | Some(b'b')
                if matches!(self.s.get(self.i + 1), Some(b'\'') | Some(b'"')) =>
            {
                let raw = self.peek() == Some(b'r');
                self.i += 1;
                if raw {
                    self.raw_string().map(Value::String)
                } else {
                    self.string().map(Value::String)
                }
            }
            Some(c) if c == b'-' || c == b'+' || c == b'.' || c.is_ascii_digit() => self.number(),
            Some(_) => self.word(),
        }
    }

    fn nested(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<Value, String>,
    ) -> Result<Value, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("nesting too deep");
        }
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn dict(&mut self) -> Result<Value, String> {
        self.i += 1; // '{'
        let mut map = Map::new();
        loop {
            self.ws();
            if self.peek() == Some(b'}') {
                self.i += 1;
                return Ok(Value::Object(map));
            }
            let key = match self.value()? {
                Value::String(s) => s,
                other => other.to_string(),
            };
            self.ws();
            if self.peek() != Some(b':') {
                return self.err("expected ':' in dict");
            }
            self.i += 1;
            let v = self.value()?;
            map.insert(key, v);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {}
                _ => return self.err("expected ',' or '}' in dict"),
            }
        }
    }

    fn seq(&mut self, close: u8) -> Result<Value, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            self.ws();
            if self.peek() == Some(close) {
                self.i += 1;
                return Ok(Value::Array(out));
            }
            out.push(self.value()?);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {}
                _ => return self.err("expected ',' or closing bracket"),
            }
        }
    }

    fn raw_string(&mut self) -> Result<String, String> {
        let q = self.s[self.i];
        self.i += 1;
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i] != q {
            if self.s[self.i] == b'\\' {
                self.i += 1;
            }
            self.i += 1;
        }
        if self.i >= self.s.len() {
            return self.err("unterminated string");
        }
        let out = self.src[start..self.i].to_string();
        self.i += 1;
        Ok(out)
    }

    fn string(&mut self) -> Result<String, String> {
        let q = self.s[self.i];
        self.i += 1;
        let mut out = String::new();
        loop {
            // copy the run of plain characters (valid UTF-8 since `src` is a str)
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i] != q && self.s[self.i] != b'\\' {
                self.i += 1;
            }
            out.push_str(&self.src[start..self.i]);
            match self.peek() {
                None => return self.err("unterminated string"),
                Some(c) if c == q => {
                    self.i += 1;
                    return Ok(out);
                }
                _ => {
                    self.i += 1; // backslash
                    let Some(e) = self.peek() else {
                        return self.err("unterminated escape");
                    };
                    self.i += 1;
                    match e {
                        b'n' => out.push('\n'),
                        b't' => out.push('\t'),
                        b'r' => out.push('\r'),
                        b'0' => out.push('\0'),
                        b'a' => out.push('\u{7}'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'v' => out.push('\u{b}'),
                        b'\\' => out.push('\\'),
                        b'\'' => out.push('\''),
                        b'"' => out.push('"'),
                        b'\n' => {}
                        b'x' => out.push(self.hex(2)?),
                        b'u' => out.push(self.hex(4)?),
                        b'U' => out.push(self.hex(8)?),
                        _ => {
                            // Python keeps unknown escapes verbatim
                            out.push('\\');
                            self.i -= 1;
                            let ch_len =
                                self.src[self.i..].chars().next().map_or(1, char::len_utf8);
                            out.push_str(&self.src[self.i..self.i + ch_len]);
                            self.i += ch_len;
                        }
                    }
                }
            }
        }
    }

    fn hex(&mut self, n: usize) -> Result<char, String> {
        let digits = self
            .src
            .get(self.i..self.i + n)
            .ok_or_else(|| format!("short escape at byte {}", self.i))?;
        let code = u32::from_str_radix(digits, 16)
            .map_err(|_| format!("bad hex escape at byte {}", self.i))?;
        self.i += n;
        Ok(char::from_u32(code).unwrap_or('\u{fffd}'))
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.i;
        while self.i < self.s.len()
            && matches!(
                self.s[self.i],
                b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E' | b'_'
            )
        {
            self.i += 1;
        }
        let text: String = self.src[start..self.i]
            .chars()
            .filter(|&c| c != '_')
            .collect();
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::Number(Number::from(i)));
        }
        match text.parse::<f64>().ok().and_then(Number::from_f64) {
            Some(n) => Ok(Value::Number(n)),
            None => Err(format!("bad number `{text}` at byte {start}")),
        }
    }

    fn word(&mut self) -> Result<Value, String> {
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
        {
            self.i += 1;
        }
        match &self.src[start..self.i] {
            "True" => Ok(Value::Bool(true)),
            "False" => Ok(Value::Bool(false)),
            "None" => Ok(Value::Null),
            "" => Err(format!("unexpected character at byte {start}")),
            w => Err(format!("unknown name `{w}` at byte {start}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_amazon_meta_line() {
        let line = r#"{'asin': '0132793040', 'imUrl': 'http://x/y.jpg', 'related': {'also_bought': ['B1', "B2"]}, 'salesRank': {'Electronics': 12}, 'categories': [['Electronics', 'Computers & Accessories', 'Cables & Accessories', 'Monitor Accessories'], ['Electronics', "Kid's Toys"]], 'title': "Kelby's \"Book\" \u00e9\xe9", 'price': 12.99, 'x': None, 'y': True, 't': (1, -2.5e3)}"#;
        let v = parse(line).unwrap();
        assert_eq!(v["asin"], "0132793040");
        assert_eq!(v["categories"][1][1], "Kid's Toys");
        assert_eq!(v["categories"][0][3], "Monitor Accessories");
        assert_eq!(v["title"], "Kelby's \"Book\" éé");
        assert_eq!(v["price"], 12.99);
        assert_eq!(v["x"], Value::Null);
        assert_eq!(v["y"], true);
        assert_eq!(v["t"][1], -2500.0);
        assert_eq!(v["related"]["also_bought"][1], "B2");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "{'a': 1",
            "{'a' 1}",
            "['x', ]]",
            "{'a': nope}",
            "'open",
            "",
            "{'a': 1} junk",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse(&"[".repeat(10_000)).is_err());
        assert_eq!(parse("[1, 2,]").unwrap(), serde_json::json!([1, 2]));
    }
}
