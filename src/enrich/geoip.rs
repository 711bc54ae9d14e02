//! `*.geo.*` and `*.as.*` from MaxMind-format databases (GeoLite2 / GeoIP2 City, Country and
//! ASN; DB-IP's mmdb files), memory-mapped once per process.
//!
//! The fields are those Elasticsearch's geoip processor writes by default ("GeoIP processor",
//! <https://www.elastic.co/guide/en/elasticsearch/reference/current/geoip-processor.html>; the
//! code is `MaxmindIpDataLookups.java` in elastic/elasticsearch modules/ingest-geoip):
//! `continent_name`, `country_iso_code`, `country_name`, `region_iso_code` (the country's ISO code
//! and the *most specific* subdivision's, joined by `-`: `US-WA`), `region_name` (that
//! subdivision's name), `city_name`, `location` (`{lat, lon}`, only when both are known); the
//! English names. From the ASN database `asn` and `organization_name`, which Elastic's
//! integrations rename to ECS's `as.number` and `as.organization.name`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use maxminddb::{MaxMindDbError, Mmap, Reader};
use serde::Deserialize;

use crate::document::{AutonomousSystem, Geo, GeoPoint, Name, RegionIsoCode};

#[derive(Debug, thiserror::Error)]
pub enum GeoIpError {
    #[error("{path}: cannot open the GeoIP database: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: MaxMindDbError,
    },
    #[error("{path}: is a {found} database; {key} needs {expected}")]
    WrongKind {
        path: PathBuf,
        found: String,
        key: &'static str,
        expected: &'static str,
    },
}

/// The City (or Country) and ASN databases, either or both.
#[derive(Default)]
pub struct GeoIp {
    city: Option<Reader<Mmap>>,
    asn: Option<Reader<Mmap>>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = |r: &Option<Reader<Mmap>>| {
            r.as_ref()
                .map(|r| r.metadata().database_type.clone())
                .unwrap_or_default()
        };
        write!(
            f,
            "GeoIp(city: {:?}, asn: {:?})",
            kind(&self.city),
            kind(&self.asn)
        )
    }
}

impl GeoIp {
    /// Maps the local database files. The City path must not be an ASN database and the ASN
    /// path must be one (`database_type` in the file's metadata), so that swapped paths fail at
    /// start rather than write empty fields.
    pub fn open(city: Option<&Path>, asn: Option<&Path>) -> Result<Self, GeoIpError> {
        let city = city
            .map(|p| open_kind(p, "geoip_city", "a City or Country database", false))
            .transpose()?;
        let asn = asn
            .map(|p| open_kind(p, "geoip_asn", "an ASN database", true))
            .transpose()?;
        Ok(Self { city, asn })
    }

    pub fn is_empty(&self) -> bool {
        self.city.is_none() && self.asn.is_none()
    }

    /// The location of `ip`: `None` for a private, loopback or other non-public address, and for
    /// one the database does not hold.
    pub fn geo(&self, ip: IpAddr) -> Option<Geo<'_>> {
        let record: CityRecord = lookup(self.city.as_ref()?, ip)?;
        let country = record.country.as_ref();
        let subdivision = record.subdivisions.last();
        let location = record.location.as_ref().and_then(|l| {
            Some(GeoPoint {
                lat: l.latitude?,
                lon: l.longitude?,
            })
        });
        let geo = Geo {
            continent_name: record.continent.as_ref().and_then(|c| c.names.en),
            country_iso_code: country.and_then(|c| c.iso_code),
            country_name: country.and_then(|c| c.names.en),
            region_iso_code: country
                .and_then(|c| c.iso_code)
                .zip(subdivision.and_then(|s| s.iso_code))
                .map(|(country, subdivision)| RegionIsoCode {
                    country,
                    subdivision,
                }),
            region_name: subdivision.and_then(|s| s.names.en),
            city_name: record.city.as_ref().and_then(|c| c.names.en),
            location,
        };
        let empty = geo.continent_name.is_none()
            && geo.country_iso_code.is_none()
            && geo.city_name.is_none()
            && geo.location.is_none();
        (!empty).then_some(geo)
    }

    /// The autonomous system of `ip`, on the same terms as [`GeoIp::geo`].
    pub fn autonomous_system(&self, ip: IpAddr) -> Option<AutonomousSystem<'_>> {
        let record: AsnRecord = lookup(self.asn.as_ref()?, ip)?;
        let number = record.autonomous_system_number;
        let organization = record
            .autonomous_system_organization
            .map(|name| Name { name });
        (number.is_some() || organization.is_some()).then_some(AutonomousSystem {
            number,
            organization,
        })
    }
}

fn open_kind(
    path: &Path,
    key: &'static str,
    expected: &'static str,
    asn: bool,
) -> Result<Reader<Mmap>, GeoIpError> {
    // SAFETY: the map is read-only and lives as long as the reader. A file changed under it
    // while mapped would be undefined behaviour: the databases are read from a Lambda layer
    // (read-only), from a copy this process downloaded to /tmp, or from a path the user
    // keeps; geoipupdate replaces files by renaming a new one into place, which leaves the
    // mapped file as it was.
    let reader = unsafe { Reader::open_mmap(path) }.map_err(|source| GeoIpError::Open {
        path: path.to_owned(),
        source,
    })?;
    let found = &reader.metadata().database_type;
    if found.to_ascii_uppercase().contains("ASN") != asn {
        return Err(GeoIpError::WrongKind {
            path: path.to_owned(),
            found: found.clone(),
            key,
            expected,
        });
    }
    Ok(reader)
}

/// The record of a public address; `None` for the others, and on any database error (a
/// corrupt record loses its geo fields, never the line).
fn lookup<'de, T: Deserialize<'de>>(reader: &'de Reader<Mmap>, ip: IpAddr) -> Option<T> {
    let ip = public(ip)?;
    reader.lookup(ip).ok()?.decode().ok()?
}

/// `ip` if it can be on the internet: not private, loopback, link-local, shared (CGNAT),
/// unspecified, broadcast or multicast. IPv4-mapped IPv6 addresses are looked up as IPv4.
pub fn public(ip: IpAddr) -> Option<IpAddr> {
    let keep = match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => return public_v4(v4).then_some(IpAddr::V4(v4)),
            None => public_v6(v6),
        },
    };
    keep.then_some(ip)
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b); // 100.64.0.0/10, RFC 6598
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || shared
        || a == 0)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let unique_local = first & 0xfe00 == 0xfc00; // fc00::/7
    let link_local = first & 0xffc0 == 0xfe80; // fe80::/10
    !(ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() || unique_local || link_local)
}

/// The parts of a City / Country record that the fields need; strings borrow the map.
#[derive(Deserialize)]
struct CityRecord<'a> {
    #[serde(borrow)]
    continent: Option<Named<'a>>,
    #[serde(borrow)]
    country: Option<Coded<'a>>,
    #[serde(borrow, default)]
    subdivisions: Vec<Coded<'a>>,
    #[serde(borrow)]
    city: Option<Named<'a>>,
    location: Option<Location>,
}

#[derive(Deserialize)]
struct Named<'a> {
    #[serde(borrow, default)]
    names: English<'a>,
}

#[derive(Deserialize)]
struct Coded<'a> {
    #[serde(borrow)]
    iso_code: Option<&'a str>,
    #[serde(borrow, default)]
    names: English<'a>,
}

#[derive(Deserialize, Default)]
struct English<'a> {
    #[serde(borrow)]
    en: Option<&'a str>,
}

#[derive(Deserialize)]
struct Location {
    latitude: Option<f64>,
    longitude: Option<f64>,
}

#[derive(Deserialize)]
struct AsnRecord<'a> {
    autonomous_system_number: Option<u32>,
    #[serde(borrow)]
    autonomous_system_organization: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_looked_up() {
        for private in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert_eq!(public(private.parse().unwrap()), None, "{private}");
        }
        assert_eq!(
            public("::ffff:81.2.69.142".parse().unwrap()),
            Some("81.2.69.142".parse().unwrap())
        );
        assert!(public("2001:480::1".parse().unwrap()).is_some());
    }
}
