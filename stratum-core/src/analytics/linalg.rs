//! A small dense linear solver.

/// Solves `a · x = b` for square `a` (row-major, `n × n`) by Gaussian elimination
/// with partial pivoting. Returns `None` when `a` is singular (a pivot below
/// `1e-12` in magnitude) or the sizes disagree.
pub(crate) fn solve(mut a: Vec<f64>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    if a.len() != n.checked_mul(n)? {
        return None;
    }
    for col in 0..n {
        // Pivot: the largest magnitude in this column at or below the diagonal.
        let mut best = col;
        let mut best_abs = a.get(col * n + col)?.abs();
        for row in col + 1..n {
            let v = a.get(row * n + col)?.abs();
            if v > best_abs {
                best = row;
                best_abs = v;
            }
        }
        if best_abs.is_nan() || best_abs < 1e-12 {
            return None;
        }
        if best != col {
            for k in 0..n {
                a.swap(col * n + k, best * n + k);
            }
            b.swap(col, best);
        }
        let pivot = *a.get(col * n + col)?;
        for row in col + 1..n {
            let factor = *a.get(row * n + col)? / pivot;
            if factor == 0.0 {
                continue;
            }
            for k in col..n {
                let upper = *a.get(col * n + k)?;
                *a.get_mut(row * n + k)? -= factor * upper;
            }
            let bc = *b.get(col)?;
            *b.get_mut(row)? -= factor * bc;
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let mut s = *b.get(row)?;
        for k in row + 1..n {
            s -= a.get(row * n + k)? * x.get(k)?;
        }
        *x.get_mut(row)? = s / a.get(row * n + row)?;
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::solve;

    #[test]
    fn solves_with_pivoting() {
        // 0·x + 1·y = 2 ; 3·x + 4·y = 11  → x = 1, y = 2 (needs a row swap).
        let x = solve(vec![0.0, 1.0, 3.0, 4.0], vec![2.0, 11.0]).unwrap();
        assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 2.0).abs() < 1e-12);
        assert!(solve(vec![1.0, 2.0, 2.0, 4.0], vec![1.0, 2.0]).is_none());
        assert!(solve(vec![1.0], vec![1.0, 2.0]).is_none());
    }
}
