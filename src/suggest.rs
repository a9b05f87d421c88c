//! "Did you mean": the closest known word to a misspelt one.

/// The candidate closest to `word`, if it is close enough to be a likely typo.
#[must_use]
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word_lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|candidate| {
            (
                distance(&word_lower, &candidate.to_ascii_lowercase()),
                candidate,
            )
        })
        .filter(|&(d, candidate)| d <= threshold(word.len().max(candidate.len())))
        .min_by_key(|&(d, _)| d)
        .map(|(_, candidate)| candidate)
}

/// How many edits still read as a typo: one for short words, a third of longer ones.
fn threshold(len: usize) -> usize {
    (len / 3).max(1)
}

/// Levenshtein distance, counting a swap of neighbours as one edit.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn finds_typos_and_ignores_strangers() {
        let kinds = ["secrets", "configmaps", "services"];
        assert_eq!(did_you_mean("secrest", kinds), Some("secrets"));
        assert_eq!(did_you_mean("configMaps", kinds), Some("configmaps"));
        assert_eq!(did_you_mean("servce", kinds), Some("services"));
        assert_eq!(did_you_mean("volumes", kinds), None);
    }
}
