//! Who is calling: the bootstrap token (the super-administrator, for setup) or an
//! official signed in with their own congvu account (`POST /api/v1/login` gives a
//! session token). Every authenticated request carries a [`Caller`] in its extensions.
//!
//! | role | may |
//! |---|---|
//! | bootstrap token, `administrator` | everything: approve, reject, import, purge, roles |
//! | `operator`, `head` of agency A | file and submit requests for A, read A's requests, directory and export |
//! | `head` of agency A | also grant and revoke delegations of A's mailbox (Art. 16.1) |
//! | `official` | own password, directory search |

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

use congvu_directory::{Principal, Role, Secret};

use super::handlers::{ApiResult, blocking};
use super::{AdminState, ApiError, constant_time_eq};

/// The authenticated caller of one request.
#[derive(Clone, Debug)]
pub enum Caller {
    /// The bootstrap token in `data_dir/admin.token`.
    Bootstrap,
    Account(Principal),
}

impl Caller {
    /// How the audit log names the caller.
    pub fn label(&self) -> &str {
        match self {
            Caller::Bootstrap => "admin",
            Caller::Account(p) => &p.address,
        }
    }

    pub fn is_administrator(&self) -> bool {
        match self {
            Caller::Bootstrap => true,
            Caller::Account(p) => p.role == Role::Administrator,
        }
    }

    /// Administrators act for every agency; operators and heads for their own only.
    pub fn may_act_for(&self, agency: &str) -> bool {
        match self {
            Caller::Bootstrap => true,
            Caller::Account(p) => match p.role {
                Role::Administrator => true,
                Role::Operator | Role::Head => p.agency.eq_ignore_ascii_case(agency),
                Role::Official => false,
            },
        }
    }

    pub fn require_administrator(&self) -> Result<(), ApiError> {
        if self.is_administrator() {
            Ok(())
        } else {
            Err(forbidden("only the provincial administrator may do this"))
        }
    }

    pub fn require_agency(&self, agency: &str) -> Result<(), ApiError> {
        if self.may_act_for(agency) {
            Ok(())
        } else {
            Err(forbidden(format!(
                "{} may not act for agency {agency}: operators act for their own agency only",
                self.label()
            )))
        }
    }

    /// The agency an operator is confined to; `None` for administrators.
    pub fn scope(&self) -> Result<Option<&str>, ApiError> {
        match self {
            _ if self.is_administrator() => Ok(None),
            Caller::Account(p) if matches!(p.role, Role::Operator | Role::Head) => Ok(Some(&p.agency)),
            _ => Err(forbidden("officials have no administrative access")),
        }
    }
}

pub fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

fn bearer(request: &Request) -> Option<String> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::to_owned)
}

/// Resolves the bearer token to a [`Caller`], or answers 401.
pub async fn authenticate(
    State(state): State<Arc<AdminState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(token) = bearer(&request) else {
        return unauthorized();
    };
    let caller = if constant_time_eq(token.as_bytes(), state.token.expose().as_bytes()) {
        Some(Caller::Bootstrap)
    } else {
        // Session tokens are looked up by their hash: no timing side channel on the
        // token itself.
        match blocking(&state, move |s| Ok(s.directory.principal(&token)?)).await {
            Ok(principal) => principal.map(Caller::Account),
            Err(error) => return error.into_response(),
        }
    };
    match caller {
        Some(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        None => unauthorized(),
    }
}

fn unauthorized() -> Response {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "missing, wrong or expired bearer token",
    )
    .into_response()
}

/// For the routes only administrators use (agencies, accounts, quota, queue).
pub async fn administrators_only(request: Request, next: Next) -> Response {
    match request.extensions().get::<Caller>() {
        Some(caller) if caller.is_administrator() => next.run(request).await,
        Some(_) => forbidden("only the provincial administrator may do this").into_response(),
        None => unauthorized(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    login: String,
    password: String,
}

#[derive(Serialize)]
pub struct Session {
    token: String,
    /// Unix seconds.
    expires: i64,
    principal: Principal,
}

/// `POST /api/v1/login`: the official's own mailbox credentials → a session token.
/// Failed logins count against the client's address like IMAP and SMTP ones do
/// (429 while throttled). Without a socket (the offline CLI) the client is loopback.
pub async fn login(
    State(state): State<Arc<AdminState>>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    Json(request): Json<Login>,
) -> ApiResult<Session> {
    let client = connection.map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |Extension(ConnectInfo(peer))| {
        peer.ip()
    });
    let password = Secret::new(request.password);
    let login = request.login;
    let session = blocking(&state, move |s| {
        Ok(s.directory.login(client, &login, &password)?)
    })
    .await?;
    match session {
        Some((token, principal, expires)) => Ok(Json(Session {
            token: token.expose().clone(),
            expires,
            principal,
        })),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "wrong login or password",
        )),
    }
}

/// `POST /api/v1/logout`: ends the caller's session.
pub async fn logout(State(state): State<Arc<AdminState>>, request: Request) -> Result<StatusCode, ApiError> {
    if let Some(token) = bearer(&request) {
        blocking(&state, move |s| Ok(s.directory.logout(&token)?)).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
pub struct Me {
    caller: String,
    administrator: bool,
    principal: Option<Principal>,
}

/// `GET /api/v1/me`.
pub async fn me(Extension(caller): Extension<Caller>) -> Json<Me> {
    Json(Me {
        caller: caller.label().to_owned(),
        administrator: caller.is_administrator(),
        principal: match caller {
            Caller::Bootstrap => None,
            Caller::Account(p) => Some(p),
        },
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    pub password: String,
}

/// `PUT /api/v1/me/password`: an official changes their own password.
pub async fn change_own_password(
    State(state): State<Arc<AdminState>>,
    Extension(caller): Extension<Caller>,
    Json(request): Json<NewPassword>,
) -> Result<StatusCode, ApiError> {
    let Caller::Account(principal) = caller else {
        return Err(ApiError::bad_request(
            "the bootstrap token has no password: use PUT /api/v1/accounts/{address}/password",
        ));
    };
    let password = Secret::new(request.password);
    blocking(&state, move |s| {
        s.directory.set_password(&principal.address, &password)?;
        Ok(s.directory
            .record_audit(&principal.address, "set_password", &principal.address, "own")?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
