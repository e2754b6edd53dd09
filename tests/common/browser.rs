//! A browser for the console tests: curl with a cookie jar of its own, forms posted
//! as `application/x-www-form-urlencoded`, no redirect followed (each answer is
//! seen), and the checks every console page must pass.

use std::collections::HashMap;
use std::path::PathBuf;

use super::{Server, run};

/// An answer: status, headers (lower-case names, every value), body.
pub struct Answer {
    pub status: u16,
    pub headers: HashMap<String, Vec<String>>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|values| values.first())
            .map_or("", String::as_str)
    }

    pub fn cookies(&self) -> &[String] {
        self.headers.get("set-cookie").map_or(&[], Vec::as_slice)
    }

    /// The value of the first form's `csrf` field.
    pub fn csrf(&self) -> String {
        let start = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a form with a CSRF token")
            + 19;
        self.body[start..start + 64].to_owned()
    }
}

/// curl with a cookie jar of its own: one browser.
pub struct Browser<'a> {
    server: &'a Server,
    base: String,
    jar: PathBuf,
    _dir: tempfile::TempDir,
}

impl<'a> Browser<'a> {
    pub fn new(server: &'a Server, https: u16) -> Browser<'a> {
        let dir = tempfile::tempdir().unwrap();
        Browser {
            server,
            base: format!("https://localhost:{https}"),
            jar: dir.path().join("cookies"),
            _dir: dir,
        }
    }

    pub fn request(&self, args: &[&str], path: &str) -> Answer {
        let headers = self._dir.path().join("headers");
        let cafile = self.server.cafile();
        let jar = self.jar.display().to_string();
        let url = format!("{}{path}", self.base);
        let mut all = vec![
            "-sS",
            "--cacert",
            &cafile,
            "-c",
            &jar,
            "-b",
            &jar,
            "-D",
            headers.to_str().unwrap(),
            "-w",
            "\n%{http_code}",
        ];
        all.extend_from_slice(args);
        all.push(&url);
        let output = run("curl", &all);
        assert!(
            output.status.success(),
            "curl {path}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8(output.stdout).unwrap();
        let (body, code) = text.rsplit_once('\n').unwrap();
        let mut parsed: HashMap<String, Vec<String>> = HashMap::new();
        for line in std::fs::read_to_string(&headers).unwrap().lines() {
            if let Some((name, value)) = line.split_once(':') {
                parsed
                    .entry(name.trim().to_ascii_lowercase())
                    .or_default()
                    .push(value.trim().to_owned());
            }
        }
        Answer {
            status: code.parse().unwrap(),
            headers: parsed,
            body: body.to_owned(),
        }
    }

    pub fn get(&self, path: &str) -> Answer {
        self.request(&[], path)
    }

    /// What a stream (server-sent events) at `path` sent in its first `seconds`,
    /// with the session's cookies and the headers `extra` (`-H` arguments).
    pub fn stream(&self, path: &str, seconds: u32, extra: &[&str]) -> String {
        let cafile = self.server.cafile();
        let jar = self.jar.display().to_string();
        let url = format!("{}{path}", self.base);
        let max_time = seconds.to_string();
        let mut all = vec![
            "-sS",
            "-N",
            "--cacert",
            &cafile,
            "-b",
            &jar,
            "--max-time",
            &max_time,
        ];
        all.extend_from_slice(extra);
        all.push(&url);
        let output = run("curl", &all);
        // 28: the time ran out, which is how a stream that stays open ends here.
        assert_eq!(
            output.status.code(),
            Some(28),
            "curl {path}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    pub fn post(&self, path: &str, fields: &[(&str, &str)], extra: &[&str]) -> Answer {
        let pairs: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut args: Vec<&str> = Vec::new();
        for pair in &pairs {
            args.extend(["--data-urlencode", pair.as_str()]);
        }
        args.extend_from_slice(extra);
        self.request(&args, path)
    }

    /// Signs in through the form; returns the answer to the POST.
    pub fn sign_in(&self, login: &str, password: &str) -> Answer {
        let form = self.get("/console/login");
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.csrf();
        self.post(
            "/console/login",
            &[("csrf", &csrf), ("login", login), ("password", password)],
            &[],
        )
    }
}

/// The headers every console answer carries (invariant 2 of the console).
pub fn assert_secure_headers(answer: &Answer) {
    assert_eq!(
        answer.header("content-security-policy"),
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    assert_eq!(answer.header("x-content-type-options"), "nosniff");
    assert_eq!(answer.header("x-frame-options"), "DENY");
    assert_eq!(answer.header("referrer-policy"), "same-origin");
}

/// A page of ours loads nothing from elsewhere and runs nothing inline: no inline
/// script or style, no event-handler attribute, no address but SVG's namespace.
pub fn assert_self_contained(html: &str) {
    assert!(!html.contains("<script>"), "an inline script");
    assert!(!html.contains("style=\""), "an inline style");
    let elsewhere = html
        .match_indices("http")
        .filter(|(at, _)| !html[*at..].starts_with("http://www.w3.org/2000/svg"))
        .count();
    assert_eq!(elsewhere, 0, "an address outside the console");
    let handler = html.split(|c: char| c.is_whitespace() || c == '<').any(|word| {
        word.split_once('=').is_some_and(|(name, _)| {
            name.len() > 2 && name.starts_with("on") && name.bytes().all(|b| b.is_ascii_lowercase())
        })
    });
    assert!(!handler, "an event-handler attribute");
}

/// Every form control a person fills has a label (`<label for>` naming its `id`):
/// what a screen reader says and what a click on the text focuses.
pub fn assert_labelled(html: &str) {
    for (at, _) in html.match_indices('<').filter(|(at, _)| {
        ["<input", "<select", "<textarea"]
            .iter()
            .any(|tag| html[*at..].starts_with(tag))
    }) {
        let tag = &html[at..at + html[at..].find('>').unwrap_or(0)];
        if ["type=\"hidden\"", "type=\"submit\"", "type=\"button\""]
            .iter()
            .any(|t| tag.contains(t))
        {
            continue;
        }
        let id = tag
            .split_once("id=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(id, _)| id)
            .unwrap_or_else(|| panic!("a control without an id: {tag}"));
        assert!(
            html.contains(&format!("for=\"{id}\"")),
            "no label for {id}: {tag}"
        );
    }
}
