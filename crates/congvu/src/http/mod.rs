//! HTTP: the admin API on the admin listener (`admin`), and on the public HTTPS
//! listener (`https`) client autoconfiguration (`autoconfig`).

pub mod admin;
pub mod autoconfig;
pub mod https;
