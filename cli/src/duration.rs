//! Duration flags (`serve --header-timeout`, `fetch --timeout`, …): one parser for all.

use std::time::Duration;

/// The longest duration a flag accepts: a day.
const DAY: Duration = Duration::from_secs(86_400);

/// A duration flag's value: humantime's notation (`10s`, `250ms`, `2m`, `1h 30m`) or a bare
/// number of seconds (`30`, `1.5`); above zero and at most a day. Anything else (NaN,
/// infinity, `1e20`, a negative number, an unknown unit) is an error naming the value, which
/// clap turns into a usage error naming the flag.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let out_of_range = || format!("'{t}': give a duration above zero and at most a day");
    let d = match t.parse::<f64>() {
        // Compared before `from_secs_f64`, which panics on NaN, infinity and overflow.
        Ok(s) if s > 0.0 && s <= DAY.as_secs_f64() => Duration::from_secs_f64(s),
        Ok(_) => return Err(out_of_range()),
        Err(_) => humantime::parse_duration(t)
            .map_err(|e| format!("'{t}' is not a duration such as 10s, 500ms or 2m: {e}"))?,
    };
    if d.is_zero() || d > DAY {
        return Err(out_of_range());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::duration;
    use std::time::Duration;

    #[test]
    fn durations_in_every_notation() {
        assert_eq!(duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(duration(" 30 "), Ok(Duration::from_secs(30)));
        assert_eq!(duration("24h"), Ok(Duration::from_secs(86_400)));
    }

    #[test]
    fn absurd_durations_are_refused_with_the_reason() {
        for bad in [
            "0", "0s", "-1", "86401", "25h", "1e20", "NaN", "inf", "-inf",
        ] {
            let e = duration(bad).unwrap_err();
            assert!(e.contains("above zero and at most a day"), "{bad}: {e}");
        }
        for bad in ["", "s", "soon", "-1s", "10 parsecs", "1e9s"] {
            let e = duration(bad).unwrap_err();
            assert!(e.contains("is not a duration such as 10s"), "{bad}: {e}");
        }
    }
}
