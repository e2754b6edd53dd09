//! Test PKI made with the `openssl` CLI in a temporary directory, once per test
//! binary: a root CA, an intermediate, signers under it (RSA and ECDSA, the official's
//! address, another address, expired, not for e-mail), and an unrelated CA with its
//! own signer. Messages are signed with `openssl smime` / `openssl cms` and turned to
//! CRLF line ends, as an SMTP client sends them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

pub const OFFICIAL: &str = "hunglv.yendinh@thanhhoa.gov.vn";
pub const OTHER: &str = "other@thanhhoa.gov.vn";

/// The signed content: a MIME entity with Vietnamese text, LF line ends as written by
/// a program (openssl canonicalises to CRLF before signing).
pub const CONTENT: &str = "Content-Type: text/plain; charset=utf-8\n\
    Content-Transfer-Encoding: 8bit\n\nKính gửi các đồng chí,\nXin chao\nline 3\n";

pub struct Pki {
    _dir: tempfile::TempDir,
    pub dir: PathBuf,
}

impl Pki {
    pub fn get() -> &'static Pki {
        static PKI: OnceLock<Pki> = OnceLock::new();
        PKI.get_or_init(Pki::make)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn make() -> Pki {
        let temp = tempfile::tempdir().expect("tempdir");
        let dir = temp.path().to_owned();
        let pki = Pki { _dir: temp, dir };
        pki.write("ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n");
        let signer_ext = |address: &str, eku: &str| {
            format!(
                "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n\
                 extendedKeyUsage={eku}\nsubjectAltName=email:{address}\nsubjectKeyIdentifier=hash\n\
                 authorityKeyIdentifier=keyid\n"
            )
        };
        pki.write("official.ext", &signer_ext(OFFICIAL, "emailProtection"));
        pki.write("other.ext", &signer_ext(OTHER, "emailProtection"));
        pki.write("client.ext", &signer_ext(OFFICIAL, "clientAuth"));

        pki.self_signed("root", "/CN=Test Government Root CA");
        pki.issued(
            "intermediate",
            "rsa",
            "/CN=Test Government Issuing CA",
            "root",
            "ca.ext",
        );
        pki.issued(
            "official",
            "rsa",
            "/CN=Le Van Hung",
            "intermediate",
            "official.ext",
        );
        pki.issued("other", "rsa", "/CN=Someone Else", "intermediate", "other.ext");
        pki.issued(
            "client",
            "rsa",
            "/CN=Le Van Hung (TLS)",
            "intermediate",
            "client.ext",
        );
        pki.issued(
            "ecdsa",
            "ec",
            "/CN=Le Van Hung (ECDSA)",
            "intermediate",
            "official.ext",
        );
        pki.expired("expired", "/CN=Le Van Hung (2020)", "official.ext");
        pki.self_signed("unrelated-root", "/CN=Unrelated Root");
        pki.issued(
            "stranger",
            "rsa",
            "/CN=Le Van Hung (elsewhere)",
            "unrelated-root",
            "official.ext",
        );
        let mut bundle = std::fs::read(pki.path("root.pem")).expect("root");
        bundle.extend(std::fs::read(pki.path("intermediate.pem")).expect("intermediate"));
        std::fs::write(pki.ca_file(), bundle).expect("write");
        pki
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).expect("write");
    }

    fn key(&self, name: &str, kind: &str) {
        let key = self.path(&format!("{name}.key"));
        match kind {
            "ec" => openssl(
                &self.dir,
                &[
                    "ecparam",
                    "-name",
                    "prime256v1",
                    "-genkey",
                    "-noout",
                    "-out",
                    s(&key),
                ],
            ),
            _ => openssl(
                &self.dir,
                &[
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    "rsa_keygen_bits:2048",
                    "-out",
                    s(&key),
                ],
            ),
        }
    }

    fn self_signed(&self, name: &str, subject: &str) {
        self.key(name, "rsa");
        openssl(
            &self.dir,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                &format!("{name}.key"),
                "-subj",
                subject,
                "-days",
                "3650",
                "-extensions",
                "v3",
                "-config",
                s(&self.ca_config()),
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }

    /// A minimal config whose `v3` section makes a CA certificate.
    fn ca_config(&self) -> PathBuf {
        let path = self.path("req.cnf");
        self.write(
            "req.cnf",
            "[req]\ndistinguished_name=dn\n[dn]\n[v3]\nbasicConstraints=critical,CA:TRUE\n\
             keyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n",
        );
        path
    }

    /// A new key `name.key` and its certificate request `name.csr`.
    fn request(&self, name: &str, kind: &str, subject: &str) {
        self.key(name, kind);
        let (key, csr) = (format!("{name}.key"), format!("{name}.csr"));
        openssl(
            &self.dir,
            &["req", "-new", "-key", &key, "-subj", subject, "-out", &csr],
        );
    }

    fn issued(&self, name: &str, kind: &str, subject: &str, issuer: &str, extensions: &str) {
        self.request(name, kind, subject);
        openssl(
            &self.dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                &format!("{issuer}.pem"),
                "-CAkey",
                &format!("{issuer}.key"),
                "-CAcreateserial",
                "-days",
                "365",
                "-sha256",
                "-extfile",
                extensions,
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }

    /// A signer certificate valid in 2020 only, issued by the intermediate through
    /// `openssl ca` (the only way to set past dates with OpenSSL 3.0).
    fn expired(&self, name: &str, subject: &str, extensions: &str) {
        self.request(name, "rsa", subject);
        std::fs::create_dir_all(self.path("issued")).expect("mkdir");
        self.write("index.txt", "");
        self.write("serial", "1000\n");
        self.write(
            "ca.cnf",
            "[ca]\ndefault_ca=default\n[default]\ndatabase=index.txt\nnew_certs_dir=issued\nserial=serial\n\
             default_md=sha256\npolicy=any\nunique_subject=no\n[any]\ncommonName=supplied\n",
        );
        openssl(
            &self.dir,
            &[
                "ca",
                "-batch",
                "-config",
                "ca.cnf",
                "-cert",
                "intermediate.pem",
                "-keyfile",
                "intermediate.key",
                "-in",
                &format!("{name}.csr"),
                "-startdate",
                "20200101000000Z",
                "-enddate",
                "20201231000000Z",
                "-extfile",
                extensions,
                "-notext",
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }

    /// A CA file holding the root and the intermediate, as operators are told to.
    pub fn ca_file(&self) -> PathBuf {
        self.path("anchors.pem")
    }

    /// `openssl <tool> -sign` of [`CONTENT`] by `signer` (with the intermediate in the
    /// signature), `From: from`, extra arguments; CRLF line ends.
    pub fn sign(&self, tool: &str, signer: &str, from: &str, extra: &[&str]) -> Vec<u8> {
        self.sign_content(CONTENT, tool, signer, from, extra)
    }

    /// [`Pki::sign`] of another content.
    pub fn sign_content(
        &self,
        content: &str,
        tool: &str,
        signer: &str,
        from: &str,
        extra: &[&str],
    ) -> Vec<u8> {
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        let call = CALLS.fetch_add(1, Ordering::Relaxed);
        let content_path = self.path(&format!("content-{call}.txt"));
        let out = self.path(&format!("signed-{call}.eml"));
        std::fs::write(&content_path, content).expect("write");
        let (cert, key) = (format!("{signer}.pem"), format!("{signer}.key"));
        let mut args = vec![
            tool,
            "-sign",
            "-in",
            s(&content_path),
            "-signer",
            &cert,
            "-inkey",
            &key,
            "-certfile",
            "intermediate.pem",
            "-from",
            from,
            "-to",
            "vanthu@thanhhoa.gov.vn",
            "-subject",
            "Bao cao",
            "-out",
            s(&out),
        ];
        args.extend_from_slice(extra);
        openssl(&self.dir, &args);
        crlf(&std::fs::read(&out).expect("signed message"))
    }
}

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Runs openssl in `dir`, panicking with its stderr when it fails.
pub fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("/usr/bin/openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every bare LF made CRLF, CRLF kept: what the SMTP door stores.
pub fn crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 20);
    let mut previous = 0u8;
    for &byte in bytes {
        if byte == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(byte);
        previous = byte;
    }
    out
}
