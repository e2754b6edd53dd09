//! Danh bạ: the province directory for every official — search (accents optional),
//! the agency tree, and a vCard per entry.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use congvu_directory::export::{self, Format};
use congvu_directory::{AgencyRecord, DirectoryError};

use super::failure;
use super::frame::{Frame, render};
use super::session::Viewer;
use crate::http::admin::AdminState;

/// More results than a page can usefully show: refine the search.
const MAX_RESULTS: usize = 200;

struct Entry {
    name: String,
    address: String,
    position: String,
    agency: String,
}

struct TreeRow {
    abbr: String,
    name: String,
    address: String,
    depth: usize,
}

#[derive(Template)]
#[template(path = "console/directory.html")]
struct DirectoryPage {
    frame: Frame,
    query: String,
    results: Vec<Entry>,
    tree: Vec<TreeRow>,
}

#[derive(Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
    /// An agency's full abbreviation: its mailboxes.
    #[serde(default)]
    agency: String,
}

/// Agencies in tree order: each parent before its sub-agencies, siblings by name.
fn tree(agencies: &[AgencyRecord]) -> Vec<TreeRow> {
    let live: Vec<&AgencyRecord> = agencies.iter().filter(|a| a.dissolved.is_none()).collect();
    let mut rows = Vec::with_capacity(live.len());
    // Depth-first with an explicit stack (children pushed in reverse name order, so
    // they pop in name order): a deep tree cannot overflow ours.
    let children = |parent: Option<&str>| {
        let mut kids: Vec<&AgencyRecord> = live
            .iter()
            .copied()
            .filter(|a| a.parent.as_deref() == parent)
            .collect();
        kids.sort_by(|a, b| b.name.cmp(&a.name));
        kids
    };
    let mut pending: Vec<(&AgencyRecord, usize)> = children(None).into_iter().map(|a| (a, 0)).collect();
    while let Some((agency, depth)) = pending.pop() {
        rows.push(TreeRow {
            abbr: agency.abbr.clone(),
            name: agency.name.clone(),
            address: agency.address.clone(),
            depth,
        });
        pending.extend(children(Some(&agency.abbr)).into_iter().map(|a| (a, depth + 1)));
    }
    rows
}

/// `GET /console/directory?q=…&agency=…`.
pub async fn page(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    Query(search): Query<Search>,
) -> Response {
    let query = search.q.trim().to_owned();
    let agency = search.agency.trim().to_owned();
    let shown_query = if query.is_empty() {
        agency.clone()
    } else {
        query.clone()
    };
    let found = tokio::task::spawn_blocking(move || {
        let agencies = state.directory.list_agencies()?;
        let records = if !query.is_empty() {
            state.directory.search(&query, MAX_RESULTS)?
        } else if !agency.is_empty() {
            let mut records = state.directory.list_accounts(Some(&agency))?;
            records.retain(|r| r.deleted.is_none() && r.agency == agency);
            records.truncate(MAX_RESULTS);
            records
        } else {
            Vec::new()
        };
        Ok::<_, DirectoryError>((agencies, records))
    })
    .await;
    let (agencies, records) = match found {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => return failure(viewer.lang, &error),
        Err(_) => return failure(viewer.lang, &DirectoryError::Db("task".into())),
    };
    let agency_name = |abbr: &str| {
        agencies
            .iter()
            .find(|a| a.abbr == abbr)
            .map_or_else(|| abbr.to_owned(), |a| a.name.clone())
    };
    let results = records
        .into_iter()
        .map(|r| Entry {
            agency: agency_name(&r.agency),
            name: r.display_name,
            address: r.address,
            position: r.position.unwrap_or_default(),
        })
        .collect();
    let page = DirectoryPage {
        frame: viewer.frame("/console/directory", ("Danh bạ thư điện tử", "E-mail directory")),
        query: shown_query,
        results,
        tree: tree(&agencies),
    };
    render(StatusCode::OK, &page)
}

/// `GET /console/directory/vcard/{address}`: one entry as a vCard 4.0 file.
pub async fn vcard(
    State(state): State<Arc<AdminState>>,
    viewer: Viewer,
    Path(address): Path<String>,
) -> Response {
    let rendered = tokio::task::spawn_blocking(move || {
        let Some(record) = state.directory.lookup(&address)?.filter(|r| r.deleted.is_none()) else {
            return Ok(None);
        };
        let agencies = state.directory.list_agencies()?;
        let text = export::render(Format::Vcard, &agencies, std::slice::from_ref(&record), "");
        Ok::<_, DirectoryError>(Some((record.address, text)))
    })
    .await;
    match rendered {
        Ok(Ok(Some((address, text)))) => {
            let file = format!(
                "attachment; filename=\"{}.vcf\"",
                address.replace(['"', '\\'], "_")
            );
            (
                [
                    (header::CONTENT_TYPE, Format::Vcard.content_type().to_owned()),
                    (header::CONTENT_DISPOSITION, file),
                ],
                text,
            )
                .into_response()
        }
        Ok(Ok(None)) => (
            StatusCode::NOT_FOUND,
            viewer.lang.t("Không có hộp thư này.", "No such mailbox."),
        )
            .into_response(),
        Ok(Err(error)) => failure(viewer.lang, &error),
        Err(_) => failure(viewer.lang, &DirectoryError::Db("task".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use congvu_store::AccountId;

    fn agency(abbr: &str, name: &str, parent: Option<&str>) -> AgencyRecord {
        AgencyRecord {
            abbr: abbr.into(),
            name: name.into(),
            parent: parent.map(Into::into),
            address: format!("{abbr}@x.vn"),
            account: AccountId(1),
            dissolved: None,
        }
    }

    #[test]
    fn the_tree_puts_children_under_their_parent_by_name() {
        let agencies = [
            agency("yendinh", "UBND huyện Yên Định", None),
            agency("pvhtt.yendinh", "Phòng Văn hóa", Some("yendinh")),
            agency("sttt", "Sở Thông tin và Truyền thông", None),
            agency("pnv.yendinh", "Phòng Nội vụ", Some("yendinh")),
        ];
        let rows: Vec<(String, usize)> = tree(&agencies).into_iter().map(|r| (r.abbr, r.depth)).collect();
        assert_eq!(
            rows,
            [
                ("sttt".to_owned(), 0),
                ("yendinh".to_owned(), 0),
                ("pnv.yendinh".to_owned(), 1),
                ("pvhtt.yendinh".to_owned(), 1),
            ]
        );
    }
}
