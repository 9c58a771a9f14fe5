//! A port of CPython 3's `random` module, as far as the official DIN `build_dataset.py` uses it:
//! MT19937 seeded the way `random.seed(int)` seeds it, `getrandbits`, `randint` and `shuffle`.
//!
//! Only for reproducing a Python script's draws exactly ([`crate::data::SplitConfig::official`]);
//! everything else in the crate uses [`crate::rng::Rng`].
//!
//! ```
//! use din::data::PyRandom;
//! // python3 -c "import random; random.seed(1234); print([random.randint(0,99) for _ in range(10)])"
//! let mut r = PyRandom::seed(1234);
//! let draws: Vec<u64> = (0..10).map(|_| r.randint(0, 99)).collect();
//! assert_eq!(draws, [99, 56, 14, 0, 11, 74, 4, 85, 88, 10]);
//! ```

const N: usize = 624;
const M: usize = 397;

/// CPython's `random.Random`: the Mersenne Twister MT19937 with CPython's seeding and integer
/// draws (`_randbelow_with_getrandbits`), bit for bit.
#[derive(Debug, Clone)]
pub struct PyRandom {
    mt: [u32; N],
    index: usize,
}

impl PyRandom {
    /// `random.seed(seed)` for a non-negative integer: `init_by_array` with the integer's 32-bit
    /// words, least significant first (`[0]` for 0).
    pub fn seed(seed: u64) -> Self {
        let key: Vec<u32> = if seed >> 32 == 0 {
            vec![seed as u32]
        } else {
            vec![seed as u32, (seed >> 32) as u32]
        };
        let mut r = PyRandom::init_genrand(19_650_218);
        let mt = &mut r.mt;
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            let prev = mt[i - 1] ^ (mt[i - 1] >> 30);
            mt[i] = (mt[i] ^ prev.wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let prev = mt[i - 1] ^ (mt[i - 1] >> 30);
            mt[i] = (mt[i] ^ prev.wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
        r
    }

    fn init_genrand(s: u32) -> Self {
        let mut mt = [0u32; N];
        mt[0] = s;
        for i in 1..N {
            mt[i] = 1_812_433_253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        PyRandom { mt, index: N }
    }

    /// The next 32-bit output (`genrand_uint32`).
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            let mt = &mut self.mt;
            for k in 0..N {
                let y = (mt[k] & 0x8000_0000) | (mt[(k + 1) % N] & 0x7fff_ffff);
                let mag = if y & 1 == 1 { 0x9908_b0df } else { 0 };
                mt[k] = mt[(k + M) % N] ^ (y >> 1) ^ mag;
            }
            self.index = 0;
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `random.getrandbits(k)` for `k <= 64`: 32-bit words, least significant first, the last
    /// one keeping its top `k mod 32` bits.
    ///
    /// # Panics
    /// When `k > 64` (a caller's bug, never data-dependent here).
    pub fn getrandbits(&mut self, k: u32) -> u64 {
        assert!(k <= 64, "getrandbits({k}): at most 64 bits");
        if k == 0 {
            return 0;
        }
        if k <= 32 {
            return (self.next_u32() >> (32 - k)) as u64;
        }
        let low = self.next_u32() as u64;
        let high = (self.next_u32() >> (64 - k)) as u64;
        low | (high << 32)
    }

    /// `random._randbelow(n)` (`_randbelow_with_getrandbits`): `k = n.bit_length()`, draw `k`
    /// bits until the value is below `n`. Returns 0 for `n == 0`.
    pub fn randbelow(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let k = 64 - n.leading_zeros();
        loop {
            let r = self.getrandbits(k);
            if r < n {
                return r;
            }
        }
    }

    /// `random.randint(a, b)`: `a + randbelow(b - a + 1)`, both ends included (`a` when `b < a`,
    /// where Python raises).
    pub fn randint(&mut self, a: u64, b: u64) -> u64 {
        a + self.randbelow(b.saturating_sub(a).saturating_add(1).max(1))
    }

    /// `random.shuffle(x)`: for `i` from `len-1` down to 1, swap `x[i]` with `x[randbelow(i+1)]`.
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            let j = self.randbelow(i as u64 + 1) as usize;
            x.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_cpython_randint() {
        // python3 -c "import random; random.seed(1234); print([random.randint(0,99) for _ in range(10)])"
        let mut r = PyRandom::seed(1234);
        let got: Vec<u64> = (0..10).map(|_| r.randint(0, 99)).collect();
        assert_eq!(got, [99, 56, 14, 0, 11, 74, 4, 85, 88, 10]);
        // python3 -c "import random; random.seed(0); print([random.randint(1,6) for _ in range(8)])"
        let mut r = PyRandom::seed(0);
        let got: Vec<u64> = (0..8).map(|_| r.randint(1, 6)).collect();
        assert_eq!(got, [4, 4, 1, 3, 5, 4, 4, 3]);
        // a seed above 2^32 (two key words):
        // python3 -c "import random; random.seed(2**40+7); print([random.randint(0,63000) for _ in range(5)])"
        let mut r = PyRandom::seed((1 << 40) + 7);
        let got: Vec<u64> = (0..5).map(|_| r.randint(0, 63000)).collect();
        assert_eq!(got, [40219, 48976, 53406, 61468, 61932]);
    }

    #[test]
    fn matches_cpython_getrandbits() {
        // python3 -c "import random; random.seed(1234); print([random.getrandbits(32) for _ in range(3)],
        //   random.getrandbits(64), random.getrandbits(5), random.getrandbits(0))"
        let mut r = PyRandom::seed(1234);
        let words: Vec<u64> = (0..3).map(|_| r.getrandbits(32)).collect();
        assert_eq!(words, [4150886329, 3342196574, 1892932127]);
        assert_eq!(r.getrandbits(64), 138193304849869414);
        assert_eq!(r.getrandbits(5), 2);
        assert_eq!(r.getrandbits(0), 0);
    }

    #[test]
    fn matches_cpython_shuffle() {
        // python3 -c "import random; random.seed(1234); x=list(range(10)); random.shuffle(x); print(x)"
        let mut r = PyRandom::seed(1234);
        let mut x: Vec<u32> = (0..10).collect();
        r.shuffle(&mut x);
        assert_eq!(x, [2, 8, 3, 5, 6, 4, 9, 0, 1, 7]);
        let mut one = [7];
        r.shuffle(&mut one);
        assert_eq!(one, [7]);
    }
}
