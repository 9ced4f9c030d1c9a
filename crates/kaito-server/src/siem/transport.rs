//! Syslog connections: plain TCP, or TLS trusting the public roots and the sink's
//! own CA.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;

use super::DeliveryError;
use super::destination::DestinationPolicy;

/// The public web roots, and the sink's own CA if it has one.
pub(super) fn trusted_roots(ca_pem: Option<&str>) -> Result<rustls::RootCertStore, DeliveryError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(pem) = ca_pem {
        let mut added = 0;
        for certificate in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let certificate = certificate.map_err(|error| {
                DeliveryError::TlsSettings(format!("ca_pem is not PEM certificates: {error}"))
            })?;
            roots.add(certificate).map_err(|error| {
                DeliveryError::TlsSettings(format!("a certificate in ca_pem is unusable: {error}"))
            })?;
            added += 1;
        }
        if added == 0 {
            return Err(DeliveryError::TlsSettings(
                "ca_pem holds no certificate.".to_owned(),
            ));
        }
    }
    Ok(roots)
}

/// How a syslog connection is made.
#[derive(Clone, Copy)]
pub(super) enum Transport<'a> {
    Tcp,
    /// TLS, trusting the public roots and the sink's own CA if it has one.
    Tls {
        ca_pem: Option<&'a str>,
    },
}

/// Writes `records` to a syslog receiver on a fresh connection, to an address of
/// `host` that `policy` allows.
pub(super) async fn send_syslog(
    (host, port): (&str, u16),
    policy: DestinationPolicy,
    transport: Transport<'_>,
    records: &[u8],
) -> Result<(), DeliveryError> {
    let address = format!("{host}:{port}");
    let addresses = policy.resolve(host, port).await?;
    let connect = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::net::TcpStream::connect(addresses.as_slice()),
    )
    .await
    .map_err(|_| DeliveryError::Connect {
        address: address.clone(),
        source: std::io::ErrorKind::TimedOut.into(),
    })?;
    let tcp = connect.map_err(|source| DeliveryError::Connect {
        address: address.clone(),
        source,
    })?;
    match transport {
        Transport::Tcp => write_all_and_close(tcp, records).await,
        Transport::Tls { ca_pem } => {
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(|error| DeliveryError::TlsSettings(error.to_string()))?
            .with_root_certificates(trusted_roots(ca_pem)?)
            .with_no_client_auth();
            let server_name = rustls::pki_types::ServerName::try_from(host.to_owned())
                .map_err(|error| DeliveryError::TlsSettings(format!("“{host}”: {error}")))?;
            let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
                .connect(server_name, tcp)
                .await
                .map_err(|source| DeliveryError::Tls { address, source })?;
            write_all_and_close(stream, records).await
        }
    }
}

async fn write_all_and_close(
    mut stream: impl tokio::io::AsyncWrite + Unpin,
    records: &[u8],
) -> Result<(), DeliveryError> {
    stream
        .write_all(records)
        .await
        .map_err(DeliveryError::Send)?;
    stream.flush().await.map_err(DeliveryError::Send)?;
    stream.shutdown().await.map_err(DeliveryError::Send)
}
