//! Counts in summary lines, with the noun in the right number: `1 line`, `2 lines`.

/// `n` and the noun: `one` for exactly 1, `many` otherwise (`0 lines`).
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singular_only_for_one() {
        assert_eq!(count(0, "line", "lines"), "0 lines");
        assert_eq!(count(1, "line", "lines"), "1 line");
        assert_eq!(count(2, "retry", "retries"), "2 retries");
    }
}
