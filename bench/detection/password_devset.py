#!/usr/bin/env python3
"""Development set for DLP.SECRET.PASSWORD_ASSIGNMENT, and its scorer.

Two splits written with different templates: `tune` (the rules were adjusted while looking at its
misses and false alarms) and `hold` (written first, scored only as totals, never tuned on).
Positives are passwords given for an account or in a config, in the many places people put them:
prose, chat, e-mails, .env, YAML, INI, JSON, XML, TOML, compose files, Kubernetes, Terraform,
Ansible, .pgpass, .netrc, wpa_supplicant, command lines, connection strings, code, logs.
Negatives are the look-alikes: placeholders, variable and vault references, masked or empty
values, policies, reset e-mails, schema columns, code that only handles a password, questions.

Usage:
  python3 bench/detection/password_devset.py --edgeward build-holdback/cli/edgeward \
      [--rules PACK] [--split tune|hold|all] [--seed N] [--n N] [--show K]
Prints precision and recall of the password code per split, the findings of every other code on
the set, and (for the tune split, or with --show-hold) the texts missed or falsely flagged.
"""

import argparse
import collections
import json
import os
import random
import string
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True

CODE = "DLP.SECRET.PASSWORD_ASSIGNMENT"
DB = "DLP.SECRET.DB_CONNECTION_STRING"
ALNUM = string.ascii_letters + string.digits


def rs(rng, alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


WORDS = ["Summer", "winter", "Falcon", "tiger", "Orange", "river", "Maple", "coffee", "Dragon",
         "sunset", "Rocket", "pepper", "Harbor", "violet", "Monkey", "castle", "Purple", "shadow"]


def password(rng):
    """Passwords as people pick them and as generators make them."""
    w = rng.choice
    kind = rng.randrange(10)
    if kind == 0:
        return "%s%d%s" % (w(WORDS), rng.randint(1, 2029), w("!?#$@*."))
    if kind == 1:
        return "%s-%s-%d" % (w(WORDS).lower(), w(WORDS).lower(), rng.randint(1, 99))
    if kind == 2:
        return rs(rng, ALNUM, rng.randint(10, 20))
    if kind == 3:
        return rs(rng, ALNUM, rng.randint(5, 8)) + w("!#%&*?@^~+") + rs(rng, ALNUM, rng.randint(2, 6))
    if kind == 4:  # leetspeak
        base = w(WORDS)
        return base.replace("a", "@").replace("o", "0").replace("e", "3").replace("i", "1") + str(rng.randint(1, 99))
    if kind == 5:
        return "%s%s%d" % (w(WORDS), w(WORDS), rng.randint(10, 99))
    if kind == 6:
        return "%s%d" % (w(WORDS).lower(), rng.randint(100, 9999))
    if kind == 7:
        return rs(rng, string.ascii_letters + string.digits + "!@#%^&*-_=+", rng.randint(12, 24))
    if kind == 8:
        return "%s_%s!%d" % (w(WORDS), w(WORDS).lower(), rng.randint(1, 9))
    return rs(rng, string.hexdigits.lower()[:16], 16)


USERS = ["admin", "root", "jsmith", "deploy", "svc_backup", "maria.k", "ops", "app_user", "tom",
         "sa", "postgres", "ci-bot", "anna", "webadmin", "guest01"]
HOSTS = ["db01.internal", "10.0.4.17", "build-3", "nas.home.lan", "mail.acme.io", "sftp.partner.com",
         "staging-web", "jump.corp.local", "pg-prod-2", "rabbit.svc"]
SERVICES = ["the staging DB", "the router", "Jenkins", "the shared mailbox", "the NAS", "Grafana",
            "the VPN", "the prod bastion", "our Wi-Fi", "the WordPress admin", "the FTP server",
            "the old CRM", "Portainer", "the test tenant"]


def fill(tpl, rng, pw):
    return tpl.format(p=pw, u=rng.choice(USERS), h=rng.choice(HOSTS), s=rng.choice(SERVICES),
                      n=rng.randint(2, 99))


# --------------------------------------------------------------------------- hold split
# Written before the rules were changed; scored as totals only.
HOLD_POS = [
    "The password for {s} is {p}",
    "fyi {s} creds: {u} / {p}",
    "Hi team, new hire account is ready. Username: {u} Password: {p} (change on first login)",
    "Username: {u}\nPassword: {p}\nURL: https://portal.acme.io",
    "Can you check why I can't get into {s}? I'm using {u} with password {p}",
    "ok the new pwd is {p}",
    "Password changed to {p} for {u}, let me know if it works",
    "password for {u}: {p}",
    "his pass is {p} lol",
    "MYSQL_PASSWORD={p}",
    "export DB_PASSWORD='{p}'",
    "POSTGRES_PASSWORD: \"{p}\"",
    "environment:\n  - RABBITMQ_DEFAULT_PASS={p}\n  - RABBITMQ_DEFAULT_USER={u}",
    "spring:\n  datasource:\n    username: {u}\n    password: {p}",
    "[mysql]\nhost = {h}\nuser = {u}\npassword = {p}",
    "{{\"user\": \"{u}\", \"password\": \"{p}\", \"host\": \"{h}\"}}",
    "<connectionStrings><add name=\"Main\" connectionString=\"Data Source={h};User ID={u};Password={p};\" /></connectionStrings>",
    "<property name=\"hibernate.connection.password\">{p}</property>",
    "[database]\npassword = \"{p}\"",
    "apiVersion: v1\nkind: Secret\nstringData:\n  password: {p}",
    "resource \"aws_db_instance\" \"main\" {{\n  username = \"{u}\"\n  password = \"{p}\"\n}}",
    "ansible_user: {u}\nansible_password: {p}",
    "[web]\n{h} ansible_user={u} ansible_ssh_pass={p}",
    "{h}:5432:*:{u}:{p}",
    "machine {h} login {u} password {p}",
    "network={{\n    ssid=\"HomeNet\"\n    psk=\"{p}\"\n}}",
    "mysql -h {h} -u {u} -p{p} shop < dump.sql",
    "sshpass -p '{p}' ssh {u}@{h}",
    "curl -u {u}:{p} https://api.internal/v1/health",
    "htpasswd -b -c /etc/nginx/.htpasswd {u} {p}",
    "PGPASSWORD={p} pg_dump -h {h} -U {u} app > app.sql",
    "redis-cli -h {h} -a {p} ping",
    "docker login registry.acme.io -u {u} -p {p}",
    "Server={h};Database=Sales;User Id={u};Password={p};",
    "jdbc:postgresql://{h}:5432/app?user={u}&password={p}",
    "conn = psycopg2.connect(host=\"{h}\", user=\"{u}\", password=\"{p}\")",
    "const dbPassword = \"{p}\";",
    "String password = \"{p}\";",
    "$db_pass = '{p}';",
    "cfg := Config{{User: \"{u}\", Password: \"{p}\"}}",
    "2024-05-02T10:11:12Z DEBUG auth: login user={u} password={p} ok",
    "[INFO] connecting to {h} as {u} with pass={p}",
    "Welcome to Acme! Your temporary password is {p} - please change it within 24 hours.",
    "wifi is GuestNet, the key is {p}",
    "Login details for {s}: {u} / {p}",
    "admin creds -> user: {u} pw: {p}",
    "ssh {u}@{h} (password: {p})",
    "I set the root password to {p} on all the new boxes.",
    "The vault unseal passphrase is {p}",
    "SMTP_PASS={p}",
]

HOLD_NEG = [
    "The password for {s} is in 1Password under 'Infra'.",
    "Username: {u}\nPassword: <ask IT>",
    "MYSQL_PASSWORD=${{MYSQL_PASSWORD}}",
    "export DB_PASSWORD=\"$(vault kv get -field=password secret/db)\"",
    "POSTGRES_PASSWORD: \"{{{{ .Values.postgres.password }}}}\"",
    "password: \"{{{{ vault_db_password }}}}\"",
    "password: ${{{{ secrets.DB_PASSWORD }}}}",
    "spring:\n  datasource:\n    username: {u}\n    password: ${{DB_PASS}}",
    "[mysql]\nhost = {h}\nuser = {u}\npassword =",
    "{{\"user\": \"{u}\", \"password\": \"\", \"host\": \"{h}\"}}",
    "{{\"user\": \"{u}\", \"password\": \"********\"}}",
    "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        name: db-creds\n        key: password",
    "password_file = /run/secrets/db_password",
    "variable \"db_password\" {{\n  type      = string\n  sensitive = true\n}}",
    "password = var.db_password",
    "ansible_password: \"{{{{ vault_ansible_password }}}}\"",
    "mysql -h {h} -u {u} -p shop",
    "docker run -p 8080:80 -d nginx",
    "ssh -p 2222 {u}@{h}",
    "curl -u {u} https://api.internal/v1/health",
    "htpasswd -c /etc/nginx/.htpasswd {u}",
    "sshpass -f ~/.ssh/pw.txt ssh {u}@{h}",
    "redis-cli -h {h} -a $REDIS_PASSWORD ping",
    "password = getpass.getpass(\"Password: \")",
    "const password = req.body.password;",
    "String password = System.getenv(\"DB_PASSWORD\");",
    "if (password.length < 12) throw new Error(\"password too short\");",
    "CREATE TABLE users (id serial, email text, password_hash text not null);",
    "2024-05-02T10:11:12Z WARN auth: invalid password for user={u}",
    "Password must be at least 12 characters long and contain one digit and one symbol.",
    "Your password was changed. If you did not make this change, contact support.",
    "Forgot your password? Click here to reset it.",
    "How often should we rotate the database password?",
    "What's the best password manager for a small team?",
    "Please never share your password over chat.",
    "The default password is 'changeme' - the installer forces you to change it.",
    "password: [REDACTED]",
    "Password: ••••••••",
    "The password is stored as a bcrypt hash with cost 12.",
    "password reset for {u} completed by helpdesk",
    "PASSWORD_MIN_LENGTH=12",
    "We passed the SOC2 audit; passwords are now managed in Vault.",
    "Enter the password you used at sign-up.",
    "The passport number field is optional.",
    "The bypass valve is set to Level3 by default.",
    "PASSWORD_RESET_TIMEOUT=3600",
    "password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256",
    "The Wi-Fi password is printed on the back of the router.",
    "Set password_authentication = false in sshd.",
    "user:password@host is the general form of the URL userinfo.",
]

# --------------------------------------------------------------------------- tune split
TUNE_POS = [
    "the {s} password is {p}",
    "use {p} as the password for {s}",
    "login: {u}\npass: {p}",
    "Account created.\n  user: {u}\n  pass: {p}",
    "pw for {s}: {p}",
    "creds are {u}/{p}",
    "try logging in as {u} with {p}",
    "Your new password: {p}",
    "Here are your credentials - username {u}, password {p}.",
    "Password -> {p}",
    "the passcode is {p}",
    "DATABASE_PASSWORD=\"{p}\"",
    "REDIS_PASS={p}",
    "  admin_password: '{p}'",
    "db:\n  user: {u}\n  pass: \"{p}\"",
    "[smtp]\nusername = {u}\npasswd = {p}",
    "{{\n  \"username\": \"{u}\",\n  \"pwd\": \"{p}\"\n}}",
    "<Password>{p}</Password>",
    "<entry key=\"db.password\">{p}</entry>",
    "<parameter name=\"Password\" value=\"{p}\"/>",
    "password = '{p}'  # prod",
    "services:\n  db:\n    environment:\n      MYSQL_ROOT_PASSWORD: {p}",
    "data:\n  DB_USER: {u}\n  DB_PASSWORD: \"{p}\"",
    "administrator_login_password = \"{p}\"",
    "ansible_become_pass: {p}",
    "*:*:*:{u}:{p}",
    "default login {u} password {p}",
    "wpa_passphrase=\"{p}\"",
    "mysql -u{u} -p{p} -e 'show databases'",
    "mysqldump --user={u} --password={p} app > app.sql",
    "sshpass -p {p} scp backup.tar {u}@{h}:/srv",
    "curl --user {u}:{p} -X POST https://{h}/api",
    "wget --user={u} --password={p} https://{h}/files/report.csv",
    "psql \"host={h} user={u} password={p} dbname=app\"",
    "smbclient //{h}/share -U {u}%{p}",
    "net user {u} {p} /add",
    "echo '{p}' | sudo -S systemctl restart nginx",
    "ldapsearch -x -D cn={u},dc=acme,dc=io -w {p} -b dc=acme,dc=io",
    "amqp://{u}:{p}@{h}:5672/",
    "https://{u}:{p}@git.acme.io/team/repo.git",
    "Data Source={h};Initial Catalog=crm;User ID={u};Pwd={p}",
    "engine = create_engine(\"mysql+pymysql://{u}:{p}@{h}/shop\")",
    "client = Client(username=\"{u}\", password=\"{p}\")",
    "let pass = '{p}';",
    "private static final String DB_PASS = \"{p}\";",
    "var pwd = \"{p}\";",
    "$Password = ConvertTo-SecureString '{p}' -AsPlainText -Force",
    "config.password = \"{p}\"",
    ":password => '{p}',",
    "auth = ('{u}', '{p}')",
    "WARN retrying login for {u} (password={p})",
    "Mar 3 10:01:22 {h} app[311]: db connect user={u} pwd={p}",
    "Hello {u}, your account on {s} is live. Temporary password: {p}",
    "The key for our Wi-Fi is {p}",
    "its {u} and {p} for the admin panel",
    "pass: {p}",
    "PW: {p}",
    "secret: {p}",
    "client_secret={p}",
    "Password: {p}",
]

TUNE_NEG = [
    "the {s} password is in the vault",
    "use a strong password for {s}",
    "login: {u}\npass: <redacted>",
    "pw for {s}: ask Maria",
    "Your new password must differ from the last 5.",
    "Password -> see LastPass",
    "DATABASE_PASSWORD=\"\"",
    "REDIS_PASS=${{REDIS_PASS:-}}",
    "  admin_password: '{{{{ admin_password }}}}'",
    "db:\n  user: {u}\n  pass: !ENV ${{DB_PASS}}",
    "[smtp]\nusername = {u}\npasswd = %(SMTP_PASS)s",
    "<Password></Password>",
    "<Password>${{db.password}}</Password>",
    "<parameter name=\"Password\" value=\"\"/>",
    "password = ''  # set via env",
    "MYSQL_ROOT_PASSWORD_FILE: /run/secrets/mysql_root",
    "administrator_login_password = random_password.db.result",
    "ansible_become_pass: \"{{{{ lookup('env', 'BECOME_PASS') }}}}\"",
    "mysql -u{u} -p -e 'show databases'",
    "mysql -u {u} -p$MYSQL_PWD app",
    "docker run -p 5432:5432 postgres:16",
    "iperf3 -c {h} -p 5201",
    "sshpass -e ssh {u}@{h}",
    "curl --user {u}:$API_TOKEN https://{h}/api",
    "psql \"host={h} user={u} dbname=app\"",
    "net user {u} /delete",
    "let pass = prompt('Password?');",
    "private static final String DB_PASS_KEY = \"db.password\";",
    "var pwd = document.getElementById('pwd').value;",
    "$Password = Read-Host -AsSecureString",
    "config.password = ENV.fetch('DB_PASSWORD')",
    "auth = (user, os.environ['PASS'])",
    "self.password = password",
    "def set_password(self, raw_password):",
    "password: str = Field(min_length=8)",
    "ALTER TABLE accounts ADD COLUMN password_salt VARCHAR(32);",
    "Mar 3 10:01:22 {h} sshd[311]: Failed password for {u} from 10.1.2.3 port 50122",
    "Hello {u}, someone requested a password reset for your {s} account.",
    "The Wi-Fi password changes every Monday.",
    "Passwords are hashed with Argon2id (m=64MiB, t=3).",
    "Is 'Summer2024!' considered a weak password?",
    "Our policy: passwords expire after 90 days.",
    "pass: true",
    "PW: n/a",
    "secret: ****",
    "client_secret=<client-secret>",
    "Password: (none)",
    "password: changeme",
    "password=password",
    "password: xxxxxxxx",
    "Password: REPLACE_ME",
    "password: your-password-here",
    "The compass heading was N0rth-West.",
    "Make sure the tests pass on CI2 before merging.",
    "Pass the --verbose flag for more output.",
    "The PW-2000 model ships next month.",
]


def build(seed, n):
    rng = random.Random(seed)
    records = []
    for split, pos, neg in (("hold", HOLD_POS, HOLD_NEG), ("tune", TUNE_POS, TUNE_NEG)):
        for i in range(n):
            tpl = pos[i % len(pos)]
            text = fill(tpl, rng, password(rng))
            optional = [DB] if "://" in text or "Server=" in text or "Data Source=" in text else []
            records.append({"id": "%s-pos-%04d" % (split, i), "split": split, "tpl": tpl,
                            "text": text, "expected": True, "optional": optional})
        for i in range(n):
            tpl = neg[i % len(neg)]
            records.append({"id": "%s-neg-%04d" % (split, i), "split": split, "tpl": tpl,
                            "text": fill(tpl, rng, ""), "expected": False, "optional": []})
    return records


def scan(edgeward, rules, records):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps({"text": r["text"]}, ensure_ascii=False) + "\n")
        path = f.name
    try:
        cmd = [edgeward, "scan", "--jsonl"] + (["--rules", rules] if rules else []) + [path]
        proc = subprocess.run(cmd, capture_output=True, timeout=600)
    finally:
        os.unlink(path)
    if proc.returncode not in (0, 1):
        sys.stderr.write("scan failed: %s\n" % proc.stderr.decode(errors="replace"))
        sys.exit(2)
    found = {}
    for line in proc.stdout.decode().splitlines():
        obj = json.loads(line)
        found[obj["line"]] = {f["reason_code"] for f in obj.get("findings", [])}
    return [found.get(i + 1, set()) for i in range(len(records))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edgeward", default="build/cli/edgeward")
    ap.add_argument("--rules", default=None)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--n", type=int, default=400, help="positives and negatives per split")
    ap.add_argument("--show", type=int, default=40, help="misses and false alarms shown (tune split)")
    ap.add_argument("--show-hold", action="store_true", help="also show the hold split's texts")
    args = ap.parse_args()
    records = build(args.seed, args.n)
    found = scan(args.edgeward, args.rules, records)
    for split in ("tune", "hold"):
        tp = fn = fp = 0
        others = collections.Counter()
        misses, alarms = [], []
        for r, p in zip(records, found):
            if r["split"] != split:
                continue
            if r["expected"]:
                if CODE in p:
                    tp += 1
                else:
                    fn += 1
                    misses.append(r)
            elif CODE in p:
                fp += 1
                alarms.append(r)
            for c in p - {CODE} - set(r["optional"]):
                others[c] += 1
        prec = tp / (tp + fp) if tp + fp else float("nan")
        rec = tp / (tp + fn) if tp + fn else float("nan")
        print("%s: TP %d FN %d FP %d precision %.3f recall %.3f; other codes: %s" % (
            split, tp, fn, fp, prec, rec, dict(others) or "none"))
        if split == "tune" or args.show_hold:
            seen = set()
            for label, rs_ in (("MISS", misses), ("FP", alarms)):
                shown = 0
                for r in rs_:
                    if r["tpl"] in seen or shown >= args.show:
                        continue
                    seen.add(r["tpl"])
                    shown += 1
                    print("  %-4s %s" % (label, json.dumps(r["text"])[:150]))


if __name__ == "__main__":
    main()
