//! Ports a fake provider keeps for its whole life, so that "down" means *connection refused*
//! and nothing else.
//!
//! A fake that is down must refuse connections, as a stopped provider's host does. Closing its
//! listener is not enough: the port is then free, and another test's listener (or another fake)
//! may take it, so a probe of the "down" provider would reach somebody else and fail with a TLS
//! error instead. Each port is therefore held by a socket that is bound and never listens: the
//! kernel answers connections to it with a reset (refused), and no other socket can bind the
//! port. The fake's listeners join the same port through `SO_REUSEPORT` while it is up.
//!
//! Sockets of other code set at most `SO_REUSEADDR`, which does not let them share a port with a
//! socket that only sets `SO_REUSEPORT`; a port chosen by the kernel (port 0) is always one no
//! socket holds. The one port picked by number (the gRPC port, next to the REST one) is first
//! tried with a socket that allows no sharing at all, so it is never one another fake holds.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use tokio::net::{TcpListener, TcpSocket};

/// Connections queued while the fake's task is busy.
const BACKLOG: u32 = 1024;

/// A loopback port held for the fake (see the module docs).
pub(crate) struct HeldPort {
    address: SocketAddr,
    /// Bound, never listening: keeps the port and refuses connections while no listener is open.
    _reservation: TcpSocket,
}

impl HeldPort {
    /// A free loopback port chosen by the kernel.
    pub(crate) fn any() -> io::Result<Self> {
        Self::hold((Ipv4Addr::LOCALHOST, 0).into())
    }

    /// Loopback port `port`, when nothing holds it.
    pub(crate) fn at(port: u16) -> io::Result<Self> {
        let address = (Ipv4Addr::LOCALHOST, port).into();
        // A socket without any reuse flag conflicts with every socket already on the port.
        TcpSocket::new_v4()?.bind(address)?;
        Self::hold(address)
    }

    fn hold(address: SocketAddr) -> io::Result<Self> {
        let reservation = sharing_socket()?;
        reservation.bind(address)?;
        Ok(Self {
            address: reservation.local_addr()?,
            _reservation: reservation,
        })
    }

    /// The port's address.
    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    /// A listener on the held port, for while the fake is up.
    pub(crate) fn listen(&self) -> io::Result<TcpListener> {
        let socket = sharing_socket()?;
        socket.bind(self.address)?;
        socket.listen(BACKLOG)
    }
}

/// A socket that shares its port only with other sockets that set `SO_REUSEPORT` (ours).
fn sharing_socket() -> io::Result<TcpSocket> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseport(true)?;
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_held_port_refuses_while_down_and_cannot_be_taken() {
        let held = HeldPort::any().unwrap();
        let address = held.address();
        let refused = tokio::net::TcpStream::connect(address).await.unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
        // Other code binds with SO_REUSEADDR (std and tokio listeners do): refused.
        assert!(TcpListener::bind(address).await.is_err());
        assert!(HeldPort::at(address.port()).is_err());

        let listener = held.listen().unwrap();
        let (accepted, connected) =
            tokio::join!(listener.accept(), tokio::net::TcpStream::connect(address));
        accepted.unwrap();
        connected.unwrap();
        drop(listener);
        let refused = tokio::net::TcpStream::connect(address).await.unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
        // And it comes back up on the same number.
        held.listen().unwrap();
    }
}
