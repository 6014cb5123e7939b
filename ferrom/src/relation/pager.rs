//! Pagination totals, as rom-sql's pagination plugin gives them.

/// Where a page stands among all pages of a relation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pager {
    /// Rows in the whole relation (all pages).
    pub total: u64,
    /// Rows per page.
    pub per_page: u64,
    /// This page (1-based).
    pub current_page: u64,
}

impl Pager {
    /// How many pages there are (at least 1).
    pub fn total_pages(&self) -> u64 {
        self.total.div_ceil(self.per_page.max(1)).max(1)
    }

    /// The next page, if there is one.
    pub fn next_page(&self) -> Option<u64> {
        (self.current_page < self.total_pages()).then_some(self.current_page + 1)
    }

    /// The previous page, if there is one.
    pub fn prev_page(&self) -> Option<u64> {
        (self.current_page > 1).then_some(self.current_page - 1)
    }

    /// The 1-based position of this page's first row in the whole relation
    /// (0 when the page is empty).
    pub fn first_in_page(&self) -> u64 {
        let first = (self.current_page - 1) * self.per_page + 1;
        if first > self.total { 0 } else { first }
    }

    /// The 1-based position of this page's last row (0 when empty).
    pub fn last_in_page(&self) -> u64 {
        if self.first_in_page() == 0 {
            0
        } else {
            (self.current_page * self.per_page).min(self.total)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals() {
        let p = Pager {
            total: 45,
            per_page: 20,
            current_page: 3,
        };
        assert_eq!(p.total_pages(), 3);
        assert_eq!(p.next_page(), None);
        assert_eq!(p.prev_page(), Some(2));
        assert_eq!((p.first_in_page(), p.last_in_page()), (41, 45));
        let empty = Pager {
            total: 0,
            per_page: 20,
            current_page: 1,
        };
        assert_eq!(
            (
                empty.total_pages(),
                empty.first_in_page(),
                empty.last_in_page()
            ),
            (1, 0, 0)
        );
    }
}
