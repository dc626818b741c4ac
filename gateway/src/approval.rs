//! Approval tokens: an HMAC-SHA256 over an order's economic fields, the distinct humans who
//! approved it and an expiry, keyed by a secret only the gate holds. Changing any field of
//! the order, or the list of approvers, voids the token; the gate counts the approvers
//! against its policy (`dual_approval_notional`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::order::{OrderRequest, RequestView};
use crate::reason::Reason;

type HmacSha256 = Hmac<Sha256>;

pub struct ApprovalKey([u8; 32]);

impl ApprovalKey {
    /// A fresh key from the OS: tokens do not survive a gate restart, by design.
    pub fn generate() -> Result<ApprovalKey, String> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .map_err(|e| format!("no OS randomness for the approval key: {e}"))?;
        Ok(ApprovalKey(key))
    }

    #[cfg(test)]
    pub fn fixed(byte: u8) -> ApprovalKey {
        ApprovalKey([byte; 32])
    }

    fn mac(&self, order: RequestView<'_>, approvers: &str, expires_at_ms: i64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        // Floats are hashed by their bits: 0.1 and 0.1000000001 are different orders.
        let fields = format!(
            "v2|{}|{}|{}|{}|{}|{:?}|{:?}|{:?}|{}|{}|{:?}|{}|{}|{}",
            order.order_id,
            order.client_order_id,
            order.account_id,
            order.strategy_id,
            order.instrument_id,
            order.side,
            order.order_type,
            order.time_in_force,
            order.quantity.to_bits(),
            order.price.map_or(0, f64::to_bits),
            order.expire_at_ms,
            order.reduce_only,
            expires_at_ms,
            approvers,
        );
        mac.update(fields.as_bytes());
        mac
    }

    /// A token for `order`, approved by `approvers` (already distinct: see [`distinct`]).
    pub fn mint(&self, order: &OrderRequest, approvers: &[String], expires_at_ms: i64) -> String {
        let names = approvers.join("\n");
        let tag = self
            .mac(order.view(), &names, expires_at_ms)
            .finalize()
            .into_bytes();
        format!(
            "{expires_at_ms}.{}.{}",
            to_hex(names.as_bytes()),
            to_hex(&tag)
        )
    }

    /// How many distinct humans approved, if the token was minted by this key for exactly
    /// this order and has not expired.
    pub fn verify(&self, order: &OrderRequest, token: &str, now_ms: i64) -> Result<usize, Reason> {
        self.verify_view(order.view(), token, now_ms)
    }

    /// [`ApprovalKey::verify`] for a borrowed request.
    pub fn verify_view(
        &self,
        order: RequestView<'_>,
        token: &str,
        now_ms: i64,
    ) -> Result<usize, Reason> {
        let mut parts = token.split('.');
        let (Some(expiry), Some(names), Some(hex), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Reason::ApprovalTokenInvalid);
        };
        let expires_at_ms: i64 = expiry.parse().map_err(|_| Reason::ApprovalTokenInvalid)?;
        let tag = from_hex(hex)
            .filter(|t| t.len() == 32)
            .ok_or(Reason::ApprovalTokenInvalid)?;
        let names = from_hex(names)
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(Reason::ApprovalTokenInvalid)?;
        // Constant-time comparison, so a forger learns nothing from timing.
        self.mac(order, &names, expires_at_ms)
            .verify_slice(&tag)
            .map_err(|_| Reason::ApprovalTokenInvalid)?;
        if now_ms >= expires_at_ms {
            return Err(Reason::ApprovalTokenExpired);
        }
        Ok(if names.is_empty() {
            0
        } else {
            names.split('\n').count()
        })
    }
}

/// The approvers as the token records them: trimmed, each once (case-insensitively, first
/// spelling kept), in the order they answered. A blank name, or one with a line break (the
/// token's separator), is refused.
pub fn distinct(approvers: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for name in approvers {
        let name = name.trim();
        if name.is_empty() || name.contains(['\n', '\r']) {
            return Err(format!(
                "approver id {name:?} must be non-blank and on one line"
            ));
        }
        if !out.iter().any(|seen| seen.eq_ignore_ascii_case(name)) {
            out.push(name.to_string());
        }
    }
    if out.is_empty() {
        return Err("an approval needs the approver's id".into());
    }
    Ok(out)
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 || !hex.is_ascii() {
        return None;
    }
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::{OrderType, Side, TimeInForce};

    fn order() -> OrderRequest {
        OrderRequest {
            order_id: "o-1".into(),
            client_order_id: "c-1".into(),
            account_id: "paper-1".into(),
            strategy_id: "momo".into(),
            instrument_id: "paper:BTC/USD".into(),
            side: Side::Buy,
            order_type: OrderType::Limit,
            quantity: 2.0,
            price: Some(30_000.0),
            time_in_force: TimeInForce::Gtc,
            expire_at_ms: None,
            reduce_only: false,
            approval_token: None,
        }
    }

    fn alice() -> Vec<String> {
        vec!["alice".to_string()]
    }

    #[test]
    fn a_token_verifies_for_its_order_until_it_expires() {
        let key = ApprovalKey::fixed(7);
        let token = key.mint(&order(), &alice(), 2_000);
        assert_eq!(key.verify(&order(), &token, 1_999), Ok(1));
        assert_eq!(
            key.verify(&order(), &token, 2_000),
            Err(Reason::ApprovalTokenExpired)
        );
    }

    #[test]
    fn any_change_voids_the_token() {
        let key = ApprovalKey::fixed(7);
        let token = key.mint(&order(), &alice(), 2_000);
        let changes: [fn(&mut OrderRequest); 8] = [
            |o| o.quantity = 2.001,
            |o| o.price = Some(30_000.5),
            |o| o.side = Side::Sell,
            |o| o.instrument_id = "paper:ETH/USD".into(),
            |o| o.strategy_id = "other".into(),
            |o| o.client_order_id = "c-2".into(),
            |o| o.reduce_only = true,
            |o| o.time_in_force = TimeInForce::Ioc,
        ];
        for change in changes {
            let mut changed = order();
            change(&mut changed);
            assert_eq!(
                key.verify(&changed, &token, 0),
                Err(Reason::ApprovalTokenInvalid)
            );
        }
    }

    #[test]
    fn forged_or_foreign_tokens_are_invalid() {
        let key = ApprovalKey::fixed(7);
        let other = ApprovalKey::fixed(8);
        assert_eq!(
            key.verify(&order(), &other.mint(&order(), &alice(), 2_000), 0),
            Err(Reason::ApprovalTokenInvalid)
        );
        let token = key.mint(&order(), &alice(), 2_000);
        let later = token.replacen("2000", "9999", 1);
        assert_eq!(
            key.verify(&order(), &later, 0),
            Err(Reason::ApprovalTokenInvalid)
        );
        for junk in [
            "",
            ".",
            "..",
            "abc",
            "1.zz",
            "1..zz",
            "1.é.00",
            &format!("1..{}", "0".repeat(64)),
            &format!("1.{}", "0".repeat(64)),
        ] {
            assert_eq!(
                key.verify(&order(), junk, 0),
                Err(Reason::ApprovalTokenInvalid),
                "{junk}"
            );
        }
    }

    #[test]
    fn the_token_carries_its_approvers_and_cannot_gain_one() {
        let key = ApprovalKey::fixed(7);
        let two = distinct(&["alice".into(), " bob ".into(), "ALICE".into()]).unwrap();
        assert_eq!(two, vec!["alice".to_string(), "bob".to_string()]);
        let token = key.mint(&order(), &two, 2_000);
        assert_eq!(key.verify(&order(), &token, 0), Ok(2));
        // Adding a name to a one-approver token breaks its MAC.
        let one = key.mint(&order(), &alice(), 2_000);
        let (expiry, rest) = one.split_once('.').unwrap();
        let mac = rest.split_once('.').unwrap().1;
        let padded = format!("{expiry}.{}.{mac}", to_hex(b"alice\nmallory"));
        assert_eq!(
            key.verify(&order(), &padded, 0),
            Err(Reason::ApprovalTokenInvalid)
        );
        for bad in [vec![], vec![" ".to_string()], vec!["a\nb".to_string()]] {
            assert!(distinct(&bad).is_err(), "{bad:?}");
        }
    }
}
