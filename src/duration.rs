//! Durations as people type them on the command line: `30d`, `12h`, `90m`, `2s`, `1w`, or a sum
//! such as `1h30m` (issue #18: `runed token create --ttl`).
//!
//! In: the text of a flag. Out: a [`Duration`], or a message for clap saying what is expected.
//! Must not happen here: a zero duration (a token that is expired when made is a mistake).

use std::time::Duration;

/// Parses `30d`, `12h`, `1h30m`, … (units `s`, `m`, `h`, `d`, `w`; every number needs a unit).
pub fn parse(text: &str) -> Result<Duration, String> {
    let invalid = || {
        format!(
            "`{text}` is not a duration: write a number and a unit, such as `30d`, `12h`, `15m` or `1h30m` (units s, m, h, d, w)"
        )
    };
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in text.trim().chars() {
        if let Some(digit) = c.to_digit(10) {
            let so_far = number.unwrap_or(0);
            number = Some(
                so_far
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(digit)))
                    .ok_or_else(invalid)?,
            );
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(invalid()),
        };
        let value = number.take().ok_or_else(invalid)?;
        total = value
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(invalid)?;
    }
    if number.is_some() || total == 0 {
        return Err(invalid());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::parse;

    #[test]
    fn units_and_sums() {
        assert_eq!(parse("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse("30d"), Ok(Duration::from_secs(2_592_000)));
        assert_eq!(parse("1w"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5_400)));
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        for text in [
            "",
            "30",
            "d",
            "0s",
            "1x",
            "1.5h",
            "-1d",
            "99999999999999999999s",
        ] {
            assert!(parse(text).is_err(), "{text:?}");
        }
    }
}
