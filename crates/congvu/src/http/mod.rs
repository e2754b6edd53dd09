//! HTTP: the admin API and `/metrics` on the admin listener (`admin`), and on the
//! public HTTPS listener (`https`) client autoconfiguration (`autoconfig`) and the
//! web console (`console`) and the webmail (`webmail`).

pub mod admin;
pub mod autoconfig;
pub mod console;
pub mod https;
pub mod webmail;
