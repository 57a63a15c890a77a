//! Text building without `core::fmt`: the browser pixel's paths build their messages, cookies and
//! URLs with these and `concat`, so its module links no formatting machinery (`docs/decisions.md`
//! "Gaps": about 1 KB gzipped). The worker's `Display` impls of the same errors call the same
//! functions, so every message has one text.

/// `n` in decimal.
#[must_use]
pub fn decimal(n: u64) -> String {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        // `rest % 10` is a single digit.
        #[allow(clippy::cast_possible_truncation)]
        let digit = (rest % 10) as u8;
        digits[at] = b'0' + digit;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    digits[at..].iter().map(|&b| char::from(b)).collect()
}

/// `n` in decimal, with leading zeros to `width` digits (`{n:0width$}`).
#[must_use]
pub fn zero_padded(n: u64, width: usize) -> String {
    let digits = decimal(n);
    let pad = width.saturating_sub(digits.len());
    ["0".repeat(pad), digits].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_writes_what_display_writes() {
        for n in [
            0,
            1,
            9,
            10,
            99,
            100,
            7_776_000,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            assert_eq!(decimal(n), n.to_string());
        }
    }

    #[test]
    fn zero_padded_writes_what_a_padded_display_writes() {
        for (n, width) in [(0, 2), (7, 2), (12, 2), (123, 2), (1990, 4), (5, 4), (0, 0)] {
            assert_eq!(zero_padded(n, width), format!("{n:0width$}"));
        }
    }
}
