# The configuration of one bench node, shared by setup.sh and run-bodies.sh:
# conf NAME BASE STORE writes /tmp/scale/NAME/congvu.toml with its listeners on
# 127.0.0.1:BASE25 (SMTP), BASE87 (submission), BASE93 (IMAPS), BASE80 (admin),
# limits off, the queue off, and STORE (a [store] section, or nothing for sled).
conf() { # name base store-section
  local name=$1 base=$2 store=$3
  mkdir -p /tmp/scale/$name
  cat > /tmp/scale/$name/congvu.toml <<CONF
[server]
hostname = "$name.thanhhoa.gov.vn"
data_dir = "/tmp/scale/$name/data"
[domain]
primary = "thanhhoa.gov.vn"
[listeners]
smtp = "127.0.0.1:${base}25"
submission = "127.0.0.1:${base}87"
imaps = "127.0.0.1:${base}93"
admin = "127.0.0.1:${base}80"
[log]
level = "warn"
[queue]
enabled = false
[smtp]
max_connections_per_ip = 0
[imap]
max_connections_per_ip = 0
max_connections_per_user = 0
$store
CONF
}

# The [store] section of a node on the PostgreSQL database at URL.
pg_store() { # url
  printf '[store]\nbackend = "postgres"\nurl = "%s"\npool_size = 16\n' "$1"
}
