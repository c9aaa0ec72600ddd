//! Connection slots: each service (port 25, 587, 465, 143, 993) has its own
//! pool of `limits.connections`, and one client address may hold at most
//! `limits.client_connections` of them (an IPv6 client counts by its /64,
//! the block one subscriber usually gets). So one client cannot lock out a
//! service, and filling port 25 never locks out submission.
//!
//! A slot is taken once per connection (a lock held for a map update), so
//! nothing here is on the path of a command or a message.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The slots of one service.
#[derive(Debug)]
pub struct Pool {
    slots: Arc<Semaphore>,
    total: usize,
    per_client: u32,
    clients: Mutex<HashMap<IpAddr, u32>>,
}

/// Why a connection got no slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Full {
    /// Every slot of the service is taken.
    Service,
    /// This client holds its share already.
    Client,
}

/// A connection's slot, given back when dropped.
#[derive(Debug)]
pub struct Slot {
    pool: Arc<Pool>,
    client: IpAddr,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut clients = self.pool.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = clients.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                clients.remove(&self.client);
            }
        }
    }
}

/// The address a client is counted by: itself, or its /64 for IPv6 (an
/// IPv4 address mapped into IPv6 counts as the IPv4 one).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl Pool {
    pub fn new(total: u32, per_client: u32) -> Arc<Pool> {
        let total = total.max(1) as usize;
        Arc::new(Pool {
            slots: Arc::new(Semaphore::new(total)),
            total,
            per_client: per_client.max(1),
            clients: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for a connection from `ip`, or why there is none.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Full> {
        let client = client_key(ip);
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let held = clients.get(&client).copied().unwrap_or(0);
        if held >= self.per_client {
            return Err(Full::Client);
        }
        let permit = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| Full::Service)?;
        clients.insert(client, held + 1);
        Ok(Slot {
            pool: self.clone(),
            client,
            _permit: permit,
        })
    }

    /// Whether more than three quarters of the slots are taken: then idle
    /// clients get a short timeout (as Postfix does under stress).
    pub fn stressed(&self) -> bool {
        self.slots.available_permits() * 4 < self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_service_and_per_client() {
        let pool = Pool::new(3, 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let a1 = pool.admit(a).unwrap();
        let _a2 = pool.admit(a).unwrap();
        assert_eq!(pool.admit(a).unwrap_err(), Full::Client);
        let _b1 = pool.admit(b).unwrap();
        assert_eq!(pool.admit(b).unwrap_err(), Full::Service);
        assert!(pool.stressed());
        drop(a1);
        assert!(pool.admit(b).is_ok());
        // One IPv6 /64 is one client; a mapped IPv4 address is the IPv4 one.
        let v6 = |s: &str| client_key(s.parse().unwrap());
        assert_eq!(v6("2001:db8::1"), v6("2001:db8::ffff:2"));
        assert_ne!(v6("2001:db8::1"), v6("2001:db8:0:1::1"));
        assert_eq!(v6("::ffff:192.0.2.1"), a);
    }
}
