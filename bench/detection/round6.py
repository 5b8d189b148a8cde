#!/usr/bin/env python3
"""Round 6 evaluation set: password disclosure (positives) vs. hard look-alikes (negatives).

Standard library only.  build_round6(seed=6, per_class=200) is deterministic for a seed.
Run as a script to emit JSONL on stdout.
"""
import json
import random
import re
import string
import sys

LABEL = "DLP.SECRET.PASSWORD_ASSIGNMENT"

# ---------------------------------------------------------------------------
# filler pools
# ---------------------------------------------------------------------------
FIRST = ["anna", "ben", "carlos", "dana", "elif", "farid", "greta", "hiro", "ines", "jonas",
         "kemi", "lars", "maya", "nikhil", "olga", "pedro", "quinn", "rosa", "sven", "tariq",
         "uma", "viktor", "wen", "yusuf", "zoe", "marco", "priya", "tom", "lucia", "aisha"]
LAST = ["meyer", "garcia", "okafor", "nguyen", "kowalski", "schmidt", "rossi", "tanaka",
        "dubois", "silva", "novak", "berg", "haddad", "patel", "lindqvist", "moreau",
        "fischer", "lopez", "ivanova", "oconnor", "hansen", "yilmaz", "costa", "brandt"]
COMPANIES = ["acme-corp", "northwind", "bluepeak", "kesselhaus", "lumina-health", "orbitra",
             "finchley", "tallgrass", "riverbend-logistics", "quantix", "helvetia-ag", "sunhaven"]
TLDS = ["com", "io", "de", "net", "co.uk", "fr", "es"]
SERVICES = ["Jira", "Grafana", "GitLab", "Jenkins", "the Synology NAS", "vCenter", "pfSense",
            "Confluence", "the HR portal", "Zabbix", "Nextcloud", "the printer admin page",
            "RabbitMQ management UI", "Kibana", "SonarQube", "Portainer", "the Fortigate",
            "the UniFi controller", "Proxmox", "Keycloak admin console", "Nexus", "Harbor"]
DBS = ["orders", "billing", "crm", "analytics", "inventory", "payroll", "wiki", "auth",
       "ledger", "shipping", "reports", "catalog"]
DB_USERS = ["app_user", "postgres", "root", "sa", "etl_loader", "reporting", "svc_api",
            "django", "wp_admin", "readonly", "billing_rw", "migrator"]
SVC_ACCOUNTS = ["svc_backup", "svc_sql", "svc-jenkins", "svc_ldap_bind", "svc_scanner",
                "svc_veeam", "svc-sharepoint", "svc_monitoring", "svc_deploy"]
ENVS = ["prod", "staging", "uat", "dev", "qa"]
DEVICES = ["Hikvision NVR", "Ubiquiti switch", "Fritz!Box", "Synology DS920+", "HP iLO",
           "Dell iDRAC", "Cisco ASA", "MikroTik router", "APC UPS card", "QNAP"]
SSIDS = ["Office-5G", "GuestNet", "KH-Staff", "WLAN-Buero", "Lab_2.4", "Warehouse-AP",
         "Casa-Lopez", "Freebox-8A21", "FRITZ!Box 7590 QX", "CorpSecure"]
WORDS = ["river", "orange", "castle", "pencil", "thunder", "marble", "velvet", "canyon",
         "lantern", "falcon", "cobalt", "meadow", "harbor", "quartz", "tundra", "pepper",
         "saddle", "glacier", "violet", "anchor", "biscuit", "comet", "dragon", "ember",
         "fjord", "garnet", "hammock", "igloo", "juniper", "kettle", "lemon", "mango",
         "nugget", "otter", "piano", "quiver", "rocket", "salmon", "tractor", "umbrella",
         "walnut", "yodel", "zephyr", "banjo", "crayon", "donut", "walrus", "pickle"]
CAPWORDS = ["Sunflower", "Bluebird", "Dolphin", "Mustang", "Phoenix", "Tiger", "Galaxy",
            "Snowball", "Rainbow", "Maverick", "Jupiter", "Bavaria", "Barcelona", "Lisboa",
            "Kilimanjaro", "Nebraska", "Pumpkin", "Summer", "Winter", "Autumn", "Fruehling",
            "Gizmo", "Bulldog", "Cheddar", "Espresso", "Voyager"]
LANGS = ["Python", "Go", "Node", "Java", "C#", "PHP", "Ruby"]

LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "$", "t": "7", "l": "1", "g": "9", "b": "8"}
SYMS = "!@#$%&*?-_+=."


class G:
    """Random helper bound to one RNG."""

    def __init__(self, rng):
        self.r = rng

    # basic -----------------------------------------------------------------
    def c(self, seq):
        return self.r.choice(seq)

    def n(self, a, b):
        return self.r.randint(a, b)

    def chance(self, p):
        return self.r.random() < p

    def first(self):
        return self.c(FIRST)

    def full(self):
        return f"{self.c(FIRST).capitalize()} {self.c(LAST).capitalize()}"

    def login(self):
        f, l = self.c(FIRST), self.c(LAST)
        return self.c([f"{f}.{l}", f"{f[0]}{l}", f"{f}_{l[0]}", f"{l}{f[0]}", f"{f}{self.n(1, 99)}"])

    def user(self):
        return self.c(["admin", "root", "administrator", self.login(), self.login(),
                       self.c(DB_USERS), self.c(SVC_ACCOUNTS), "deploy", "ops"])

    def company(self):
        return self.c(COMPANIES)

    def domain(self):
        return f"{self.company()}.{self.c(TLDS)}"

    def host(self):
        co = self.company()
        return self.c([f"db{self.n(1, 9):02d}.{co}.internal", f"pg-{self.c(ENVS)}-{self.n(1, 4)}.corp.local",
                       f"mysql.{self.c(ENVS)}.{co}.io", f"sql{self.n(1, 5)}.{co}.lan",
                       f"{self.c(ENVS)}-db.{co}.net", f"srv-{self.c(['app', 'files', 'db', 'bkp'])}{self.n(1, 30):02d}"])

    def ip(self):
        k = self.n(0, 3)
        if k == 0:
            return f"10.{self.n(0, 254)}.{self.n(0, 254)}.{self.n(2, 254)}"
        if k == 1:
            return f"192.168.{self.n(0, 50)}.{self.n(2, 254)}"
        if k == 2:
            return f"172.{self.n(16, 31)}.{self.n(0, 254)}.{self.n(2, 254)}"
        return f"203.0.113.{self.n(2, 254)}"

    def host_or_ip(self):
        return self.ip() if self.chance(0.35) else self.host()

    def email(self):
        return f"{self.c(FIRST)}.{self.c(LAST)}@{self.domain()}"

    def db(self):
        return self.c(DBS)

    def svc(self):
        return self.c(SERVICES)

    def env(self):
        return self.c(ENVS)

    def date(self):
        return f"2024-{self.n(1, 12):02d}-{self.n(1, 28):02d}"

    def ts(self):
        return f"{self.date()} {self.n(0, 23):02d}:{self.n(0, 59):02d}:{self.n(0, 59):02d}"

    def ticket(self):
        return f"{self.c(['INC', 'REQ', 'OPS', 'IT', 'SD'])}-{self.n(1000, 99999)}"

    def alnum(self, k, chars=string.ascii_letters + string.digits):
        return "".join(self.r.choice(chars) for _ in range(k))

    def apikey(self):
        k = self.n(0, 3)
        if k == 0:
            return "STRIPE_SECRET_KEY", "sk_live_" + self.alnum(28)
        if k == 1:
            return "SENDGRID_API_KEY", "SG." + self.alnum(22) + "." + self.alnum(43)
        if k == 2:
            return "AWS_ACCESS_KEY_ID", "AKIA" + self.alnum(16, string.ascii_uppercase + string.digits)
        return "GITHUB_TOKEN", "ghp_" + self.alnum(36)

    def bcrypt(self):
        return "$2b$12$" + self.alnum(53, string.ascii_letters + string.digits + "./")

    # passwords --------------------------------------------------------------
    def _random_pw(self):
        n = self.n(10, 22)
        pool = string.ascii_letters + string.digits + "!@#$%^&*-_=+?"
        while True:
            s = "".join(self.r.choice(pool) for _ in range(n))
            if (any(ch.islower() for ch in s) and any(ch.isupper() for ch in s)
                    and any(ch.isdigit() for ch in s)):
                return s

    def _alnum_pw(self):
        while True:
            s = self.alnum(self.n(12, 24))
            if any(ch.isdigit() for ch in s) and any(ch.isupper() for ch in s):
                return s

    def _word_digits(self):
        w = self.c(CAPWORDS)
        return self.c([f"{w}{self.n(1, 99)}{self.c(SYMS)}", f"{w}{self.c(SYMS)}{self.n(1970, 2025)}",
                       f"{w}{self.n(2019, 2025)}{self.c('!#?')}", f"{self.c(WORDS).capitalize()}{w}{self.n(10, 999)}",
                       f"{w}_{self.c(WORDS)}{self.n(1, 9)}"])

    def _leet(self):
        w = self.c(WORDS + [x.lower() for x in CAPWORDS])
        out = []
        for i, ch in enumerate(w):
            if ch in LEET and self.chance(0.6):
                out.append(LEET[ch])
            else:
                out.append(ch.upper() if (i == 0 and self.chance(0.7)) else ch)
        return "".join(out) + self.c(SYMS) + str(self.n(1, 99))

    def passphrase(self, sep=None):
        k = self.n(3, 5)
        ws = self.r.sample(WORDS, k)
        sep = sep if sep is not None else self.c(["-", " ", ".", "_", "-"])
        s = sep.join(ws)
        if self.chance(0.3):
            s += sep + str(self.n(1, 99))
        return s

    def _special(self):
        parts = [self.alnum(self.n(3, 5)), self.c(['"', "\\", "'", "$", "%", "&", "<", ";", "`", "{"]),
                 self.alnum(self.n(2, 4)), self.c(["\\", '"', "!", "^", "'", ")", "|", "~"]),
                 self.alnum(self.n(2, 5))]
        return "".join(parts)

    def pin(self, lo=4, hi=8):
        return "".join(str(self.n(0, 9)) for _ in range(self.n(lo, hi)))

    def app_password(self):
        return " ".join(self.alnum(4, string.ascii_lowercase) for _ in range(4))

    def pw(self, kind=None, avoid=""):
        kinds = ["random", "random", "alnum", "word", "word", "leet", "phrase", "special"]
        while True:
            k = kind or self.c(kinds)
            if k == "random":
                s = self._random_pw()
            elif k == "alnum":
                s = self._alnum_pw()
            elif k == "word":
                s = self._word_digits()
            elif k == "leet":
                s = self._leet()
            elif k == "phrase":
                s = self.passphrase()
            elif k == "special":
                s = self._special()
            else:
                raise ValueError(k)
            if not any(ch in s for ch in avoid):
                return s


# characters that break common quoting
SHELL_AVOID = "'\"\\` "          # safe inside single quotes, no spaces
CONN_AVOID = ";'\"\\ @:/?#{}`"   # safe inside URIs / ADO strings
SIMPLE_AVOID = "'\"\\`$ #;{}<>&%"


def yq(s):
    """YAML single-quoted scalar."""
    return "'" + s.replace("'", "''") + "'"


def xq(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def pyq(s):
    return repr(s)


def jq(s):
    return json.dumps(s)


def intro(g, options):
    return g.c(options)


# ---------------------------------------------------------------------------
# POSITIVE templates
# ---------------------------------------------------------------------------

def p_chat_login(g):
    u, pw, svc = g.user(), g.pw(), g.svc()
    return g.c([
        f"can you check why login fails on {svc}, I'm using {u} / {pw} and it just says invalid credentials",
        f"hey, {svc} keeps rejecting me. user is {u}, pass {pw} — what am I doing wrong?",
        f"Login to {svc} broken since this morning?? creds: {u} / {pw}",
        f"why would {svc} say 'authentication failed' when I type {u} and {pw}? I copied it straight from the handover doc",
    ])


def p_dotenv(g):
    u, db, host = g.c(DB_USERS), g.db(), g.host_or_ip()
    pw = g.pw(avoid="\"\\$`'")
    val = f'"{pw}"' if (" " in pw or "#" in pw) else pw
    lines = [f"APP_ENV={g.env()}", f"DB_HOST={host}", f"DB_PORT={g.c(['5432', '3306', '1433'])}",
             f"DB_DATABASE={db}", f"DB_USERNAME={u}", f"DB_PASSWORD={val}"]
    if g.chance(0.4):
        k, v = g.apikey()
        lines.append(f"{k}={v}")
    if g.chance(0.5):
        lines.insert(1, "APP_DEBUG=false")
    head = g.c(["Here's my .env, the app can't connect to the database:", "my .env:", "",
                "Laravel says SQLSTATE[HY000] [2002] Connection refused. Config below", "```"])
    body = "\n".join(lines)
    return (head + "\n" + body + ("\n```" if head == "```" else "")).strip()


def p_spring_yaml(g):
    host, db, u = g.host_or_ip(), g.db(), g.c(DB_USERS)
    pw = g.pw()
    return (f"Getting 'FATAL: password authentication failed' on startup. application.yml:\n\n"
            f"spring:\n  datasource:\n    url: jdbc:postgresql://{host}:5432/{db}\n"
            f"    username: {u}\n    password: {yq(pw)}\n  jpa:\n    hibernate:\n      ddl-auto: validate")


def p_ini(g):
    host, db, u = g.host_or_ip(), g.db(), g.c(DB_USERS)
    pw = g.pw(avoid=";#\"'")
    return g.c([
        f"[database]\nhost = {host}\nport = 3306\nname = {db}\nuser = {u}\npassword = {pw}\n\n[logging]\nlevel = INFO",
        f"config.ini from the {g.env()} box:\n[mysql]\nserver={host}\ndatabase={db}\nuid={u}\npwd={pw}",
    ])


def p_json_smtp(g):
    em, pw = g.email(), g.pw()
    cfg = {"smtp": {"host": f"smtp.{g.domain()}", "port": g.c([587, 465, 25]), "secure": True,
                    "user": em, "password": pw}, "from": em}
    return "Emails aren't being sent, here's config.json:\n" + json.dumps(cfg, indent=2)


def p_xml_connstr(g):
    host, db, u = g.host_or_ip(), g.db(), g.c(["sa", "app_user", "svc_sql", "webapp"])
    pw = g.pw(avoid=CONN_AVOID)
    cs = f"Server={host};Database={db};User Id={u};Password={xq(pw)};TrustServerCertificate=True"
    return (f"web.config snippet:\n<configuration>\n  <connectionStrings>\n"
            f"    <add name=\"Default\" connectionString=\"{cs}\" providerName=\"System.Data.SqlClient\" />\n"
            f"  </connectionStrings>\n</configuration>\nWhy do I get 'Login failed for user {u}'?")


def p_xml_generic(g):
    u, pw = g.user(), g.pw()
    return g.c([
        f"<settings>\n  <ldap server=\"ldap.{g.domain()}\" port=\"389\">\n    <bindUser>{u}</bindUser>\n    <bindPassword>{xq(pw)}</bindPassword>\n  </ldap>\n</settings>",
        f"Maven settings.xml:\n<servers>\n  <server>\n    <id>nexus-releases</id>\n    <username>{u}</username>\n    <password>{xq(pw)}</password>\n  </server>\n</servers>",
    ])


def p_toml(g):
    host, u, pw = g.host_or_ip(), g.c(DB_USERS), g.pw()
    return (f"# config.toml\n[server]\nport = 8080\n\n[database]\nhost = \"{host}\"\nuser = \"{u}\"\n"
            f"password = {jq(pw)}\ndbname = \"{g.db()}\"\nsslmode = \"require\"")


def p_properties(g):
    host, db, u = g.host_or_ip(), g.db(), g.c(DB_USERS)
    pw = g.pw(avoid=" \\")
    return g.c([
        f"spring.datasource.url=jdbc:mysql://{host}:3306/{db}\nspring.datasource.username={u}\nspring.datasource.password={pw}\nspring.jpa.show-sql=true",
        f"# mail.properties\nmail.smtp.host=smtp.{g.domain()}\nmail.smtp.auth=true\nmail.smtp.user=noreply\nmail.smtp.password={pw}",
    ])


def p_compose(g):
    pw = g.pw(avoid="\"'\\$`")
    img = g.c(["postgres:15", "mysql:8.0", "mariadb:11", "mongo:7"])
    var = {"postgres:15": "POSTGRES_PASSWORD", "mysql:8.0": "MYSQL_ROOT_PASSWORD",
           "mariadb:11": "MARIADB_ROOT_PASSWORD", "mongo:7": "MONGO_INITDB_ROOT_PASSWORD"}[img]
    return (f"docker-compose.yml:\n\nservices:\n  db:\n    image: {img}\n    restart: always\n"
            f"    environment:\n      {var}: \"{pw}\"\n    volumes:\n      - dbdata:/var/lib/data\n"
            f"volumes:\n  dbdata:\n\ncontainer keeps restarting, any idea?")


def p_k8s_secret(g):
    u, pw = g.c(DB_USERS), g.pw()
    return (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {g.db()}-db-credentials\n  namespace: {g.env()}\n"
            f"type: Opaque\nstringData:\n  username: {u}\n  password: {yq(pw)}")


def p_terraform(g):
    pw = g.pw(avoid='"\\$')
    return g.c([
        f"resource \"aws_db_instance\" \"{g.db()}\" {{\n  engine            = \"postgres\"\n  instance_class    = \"db.t3.medium\"\n  username          = \"dbadmin\"\n  password          = \"{pw}\"\n  allocated_storage = 50\n}}",
        f"terraform plan fails on this:\n\nprovider \"vsphere\" {{\n  user           = \"administrator@vsphere.local\"\n  password       = \"{pw}\"\n  vsphere_server = \"vcenter.{g.domain()}\"\n}}",
    ])


def p_ansible(g):
    pw = g.pw()
    u = g.user()
    return g.c([
        f"# group_vars/{g.env()}.yml\nansible_user: {u}\nansible_ssh_pass: {yq(pw)}\nansible_become: true\nansible_become_pass: {yq(pw)}",
        f"inventory:\n[webservers]\nweb01 ansible_host={g.ip()} ansible_user={u} ansible_password={g.pw(avoid=SHELL_AVOID)}",
        f"vars:\n  mysql_root_password: {yq(pw)}\n  mysql_databases:\n    - name: {g.db()}",
    ])


def p_helm(g):
    pw = g.pw()
    return g.c([
        f"values.yaml for bitnami/postgresql:\nauth:\n  username: {g.c(DB_USERS)}\n  password: {yq(pw)}\n  database: {g.db()}\nprimary:\n  persistence:\n    size: 20Gi",
        f"helm install redis bitnami/redis --set auth.password={g.pw(avoid=SHELL_AVOID + ',')} -n {g.env()}",
        f"# values-{g.env()}.yaml\ngrafana:\n  adminUser: admin\n  adminPassword: {yq(pw)}\n  ingress:\n    enabled: true",
    ])


def p_mysql_cli(g):
    pw = g.pw(avoid=SHELL_AVOID)
    h = g.host_or_ip()
    return g.c([
        f"$ mysql -u root -p'{pw}' -h {h} {g.db()}\nERROR 1045 (28000): Access denied for user 'root'@'{g.ip()}' (using password: YES)",
        f"mysqldump -h {h} -u{g.c(DB_USERS)} -p{pw} --single-transaction {g.db()} > dump.sql\nthis hangs forever, why?",
    ])


def p_psql_cli(g):
    pw = g.pw(avoid=SHELL_AVOID)
    db = g.db()
    return g.c([
        f"PGPASSWORD='{pw}' psql -h {g.host_or_ip()} -U {g.c(DB_USERS)} -d {g.db()} -c 'select count(*) from users'",
        f"export PGPASSWORD={pw}\npg_dump -h {g.host()} -U postgres {db} | gzip > /backup/{db}.sql.gz",
    ])


def p_curl(g):
    pw = g.pw(avoid=SHELL_AVOID + ":")
    u = g.user()
    return g.c([
        f"curl -u {u}:'{pw}' https://{g.c(['jenkins', 'nexus', 'artifactory', 'api'])}.{g.domain()}/api/json?pretty=true\ngives me 401",
        f"curl -X POST https://auth.{g.domain()}/login -H 'Content-Type: application/json' -d '{{\"username\":\"{u}\",\"password\":\"{pw}\"}}'",
    ])


def p_sshpass(g):
    pw = g.pw(avoid=SHELL_AVOID)
    return f"sshpass -p '{pw}' ssh -o StrictHostKeyChecking=no {g.c(['root', 'deploy', 'pi', 'ubuntu'])}@{g.host_or_ip()} 'systemctl restart app'"


def p_windows_cmd(g):
    pw = g.pw(avoid=SHELL_AVOID + "^&|<>%")
    dom = g.c(["CORP", "ACME", "NW", "KH"])
    u = g.login()
    return g.c([
        f"net use Z: \\\\fs01\\{g.c(['finance', 'shared', 'scans'])} /user:{dom}\\{u} {pw} /persistent:yes",
        f"psexec \\\\{g.c(['srv-app01', 'ws-042', 'dc02'])} -u {dom}\\{g.c(SVC_ACCOUNTS)} -p {pw} cmd /c ipconfig /all",
        f"cmdkey /add:{g.c(['fs01', 'termsrv/rds01', 'sql02'])} /user:{dom}\\{u} /pass:{pw}",
        f"net user {u} {pw} /add /domain",
    ])


def p_htpasswd(g):
    pw = g.pw(avoid=SHELL_AVOID)
    return f"htpasswd -b -c /etc/nginx/.htpasswd {g.c(['admin', 'staging', 'client', g.first()])} '{pw}'\nnginx still returns 401 after reload"


def p_docker_login(g):
    pw = g.pw(avoid=SHELL_AVOID)
    return g.c([
        f"docker login -u {g.c(['ci-bot', 'deploy', g.login()])} -p '{pw}' registry.{g.domain()}",
        f"echo '{pw}' | docker login --username {g.login()} --password-stdin harbor.{g.domain()}",
    ])


def p_git_url(g):
    pw = g.pw(avoid=CONN_AVOID + "%")
    u = g.login()
    return g.c([
        f"git clone https://{u}:{pw}@git.{g.domain()}/platform/{g.c(['infra', 'backend', 'ansible'])}.git",
        f"cat ~/.git-credentials\nhttps://{u}:{pw}@bitbucket.{g.domain()}",
        f"git remote set-url origin https://{u}:{pw}@gitlab.{g.domain()}/team/app.git  # works but push still fails",
    ])


def p_python(g):
    pw = g.pw()
    return g.c([
        f"import psycopg2\n\nconn = psycopg2.connect(\n    host=\"{g.host_or_ip()}\",\n    dbname=\"{g.db()}\",\n    user=\"{g.c(DB_USERS)}\",\n    password={pyq(pw)},\n)\ncur = conn.cursor()",
        f"import smtplib\ns = smtplib.SMTP('smtp.{g.domain()}', 587)\ns.starttls()\ns.login('{g.email()}', {pyq(pw)})",
        f"DATABASES = {{\n    'default': {{\n        'ENGINE': 'django.db.backends.mysql',\n        'NAME': '{g.db()}',\n        'USER': '{g.c(DB_USERS)}',\n        'PASSWORD': {pyq(pw)},\n        'HOST': '{g.host()}',\n    }}\n}}",
    ])


def p_js(g):
    pw = g.pw()
    return g.c([
        f"const pool = mysql.createPool({{\n  host: '{g.host_or_ip()}',\n  user: '{g.c(DB_USERS)}',\n  password: {jq(pw)},\n  database: '{g.db()}',\n  connectionLimit: 10\n}});",
        f"const transporter = nodemailer.createTransport({{\n  host: 'smtp.{g.domain()}',\n  port: 587,\n  auth: {{ user: 'noreply', pass: {jq(pw)} }}\n}});",
    ])


def p_java(g):
    pw = g.pw(avoid='"\\')
    return g.c([
        f"Connection conn = DriverManager.getConnection(\n    \"jdbc:oracle:thin:@{g.host()}:1521/ORCL\",\n    \"{g.c(DB_USERS).upper()}\",\n    \"{pw}\");",
        f"private static final String DB_USER = \"{g.c(DB_USERS)}\";\nprivate static final String DB_PASS = \"{pw}\";",
    ])


def p_csharp(g):
    pw = g.pw(avoid='"\\')
    return g.c([
        f"var client = new SmtpClient(\"smtp.{g.domain()}\", 587)\n{{\n    Credentials = new NetworkCredential(\"{g.login()}\", \"{pw}\"),\n    EnableSsl = true\n}};",
        f"var ldap = new LdapConnection(\"dc01.{g.domain()}\");\nldap.Credential = new NetworkCredential(\"{g.c(SVC_ACCOUNTS)}\", \"{pw}\", \"CORP\");\nldap.Bind();",
    ])


def p_go(g):
    pw = g.pw(avoid=CONN_AVOID)
    return g.c([
        f"db, err := sql.Open(\"mysql\", \"{g.c(DB_USERS)}:{pw}@tcp({g.host_or_ip()}:3306)/{g.db()}?parseTime=true\")\nif err != nil {{\n    log.Fatal(err)\n}}",
        f"auth := smtp.PlainAuth(\"\", \"{g.email()}\", \"{pw}\", \"smtp.{g.domain()}\")",
    ])


def p_php(g):
    pw = g.pw(avoid="'\\")
    return g.c([
        f"// wp-config.php\ndefine( 'DB_NAME', '{g.db()}' );\ndefine( 'DB_USER', '{g.c(DB_USERS)}' );\ndefine( 'DB_PASSWORD', '{pw}' );\ndefine( 'DB_HOST', 'localhost' );",
        f"<?php\n$pdo = new PDO('mysql:host={g.host()};dbname={g.db()}', '{g.c(DB_USERS)}', '{pw}');\n$pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);",
        f"$db_host = 'localhost';\n$db_user = '{g.c(DB_USERS)}';\n$db_pass = '{pw}';\n$conn = mysqli_connect($db_host, $db_user, $db_pass);",
    ])


def p_log_leak(g):
    pw, u = g.pw(), g.login()
    t = g.ts()
    return g.c([
        f"{t} DEBUG [auth-service] POST /api/v1/login body={json.dumps({'username': u, 'password': pw})}\n{t} WARN  [auth-service] login failed for {u}: upstream timeout",
        f"{t},{g.n(100, 499)} INFO  LdapAuthenticator - binding as uid={u},ou=people with password={pw}\n{t},{g.n(500, 999)} ERROR LdapAuthenticator - javax.naming.AuthenticationException: [LDAP: error code 49 - Invalid Credentials]",
        f"here's the stack trace:\nTraceback (most recent call last):\n  File \"sync.py\", line 42, in <module>\n    client.login(user='{u}', password={pyq(pw)})\nimaplib.IMAP4.error: b'[AUTHENTICATIONFAILED] Invalid credentials (Failure)'",
    ])


def p_csv(g):
    rows = []
    for _ in range(g.n(2, 4)):
        pw = g.pw(avoid=',"')
        rows.append(f"{g.login()},{pw},{g.c(['Sales', 'Finance', 'IT', 'Support', 'HR'])},{g.date()}")
    head = g.c(["username,password,department,created", "login,initial_password,dept,created_at"])
    return g.c(["Can you turn this export into a markdown table?\n", "users_export.csv:\n", ""]) + head + "\n" + "\n".join(rows)


def p_md_table(g):
    rows = []
    for _ in range(g.n(2, 4)):
        rows.append(f"| {g.c(SERVICES)} | {g.user()} | `{g.pw(avoid='|`')}` |")
    return "Shared accounts (team wiki):\n\n| System | User | Password |\n|---|---|---|\n" + "\n".join(rows)


def p_handover(g):
    pw = g.pw()
    name = g.full()
    return g.c([
        f"Handover notes from {name}:\n- backups run nightly at 02:00 via cron on srv-bkp01\n- the root pw is now {pw} (changed it last week)\n- monitoring alerts go to the #ops channel",
        f"Before I leave: the {g.c(DEVICES)} admin login is admin, password {pw}. Please rotate after the audit.",
        f"FYI I reset the {g.c(SVC_ACCOUNTS)} account, new password is {pw} — update the scheduled tasks on the app servers.",
    ])


def p_passphrase(g):
    pp = g.passphrase()
    return g.c([
        f"The passphrase for the deploy SSH key is \"{pp}\", I keep getting 'incorrect passphrase' in ssh-add though.",
        f"my KeePass master password is {pp} and the database won't open after the sync, how can I recover it?",
        f"BitLocker won't accept the password '{pp}' anymore after the BIOS update, recovery key is lost. help",
        f"GPG keeps asking for the passphrase; it's `{pp}`. how do I cache it in gpg-agent?",
    ])


def p_german(g):
    pw = g.pw()
    return g.c([
        f"Hallo, das Passwort für den {g.c(DEVICES)} ist {pw}, Benutzer admin. Kannst du mir helfen, die Firmware zu aktualisieren?",
        f"Zugangsdaten für das Kundenportal:\nBenutzername: {g.login()}\nKennwort: {pw}\nBitte nicht weitergeben.",
        f"Das WLAN-Passwort im Büro ist jetzt {g.pw(kind=g.c(['phrase', 'random', 'word']))} (SSID {g.c(SSIDS)}).",
    ])


def p_spanish(g):
    pw = g.pw()
    return g.c([
        f"Hola, la contraseña del servidor {g.host()} es {pw} y el usuario es root. ¿Por qué no puedo entrar por SSH?",
        f"Te paso los accesos del correo:\nusuario: {g.email()}\ncontraseña: {pw}\nSaludos, {g.full()}",
        f"La clave del wifi de la oficina es {g.pw(kind='phrase')}, la red se llama {g.c(SSIDS)}.",
    ])


def p_french(g):
    pw = g.pw()
    return g.c([
        f"Bonjour, le mot de passe du compte admin sur {g.svc().replace('the ', '')} est {pw}. Pouvez-vous vérifier pourquoi la connexion échoue ?",
        f"Identifiant : {g.login()}\nMot de passe : {pw}\nMerci de le changer à la première connexion.",
        f"le mdp de la base {g.db()} c'est {pw}, user {g.c(DB_USERS)}",
    ])


def p_before_word(g):
    pw = g.pw()
    return g.c([
        f"use {pw} as the password for the {g.env()} box, username is {g.user()}",
        f"I set {pw} as the new password on {g.svc()}, can you write me a script that logs in and exports the dashboards?",
        f"{pw} is the password for {g.c(SVC_ACCOUNTS)} on the domain, it expires in March",
    ])


def p_backticks(g):
    pw = g.pw(avoid="`")
    return g.c([
        f"I changed the admin password to `{pw}` but Grafana still shows the old one. Do I need to restart?",
        f"Credentials for the test tenant: user `{g.login()}`, password `{pw}`.",
        f"the value of `DB_PASS` in prod is `{pw}`; why does the healthcheck say auth failed?",
    ])


def p_short_labels(g):
    u, pw = g.user(), g.pw(avoid=" ")
    return g.c([
        f"login: {u} pwd: {pw}",
        f"{g.svc()} -> user {u} pass {pw}",
        f"host {g.host_or_ip()}\nuser {u}\npasswd {pw}",
        f"pw for {g.svc()} is {pw}",
        f"credentials: {u}:{pw}",
        f"Login {u} / PW {pw} (same as the test env)",
    ])


def p_typo(g):
    pw = g.pw(avoid=" ")
    lab = g.c(["pasword", "passowrd", "passwrod", "psswd", "passwort", "pasword:", "paswd"])
    return g.c([
        f"user: {g.user()}\n{lab.rstrip(':')}: {pw}",
        f"teh {lab.rstrip(':')} for {g.svc()} is {pw} btw",
        f"DB_PASSOWRD={pw}\nDB_USER={g.c(DB_USERS)}\n(i know the var name has a typo, thats what the app expects)",
    ])


def p_email_onboard(g):
    name, u, pw = g.full(), g.login(), g.pw(kind=g.c(["random", "word", "alnum"]))
    return (f"Subject: Your new account\n\nHi {name.split()[0]},\n\nwelcome to {g.company().replace('-', ' ').title()}! "
            f"Your account has been created.\n\nUsername: {u}\n"
            f"{g.c(['Temporary password', 'Initial password', 'Password'])}: {pw}\n\n"
            f"You will be asked to change it at first login.\n\nIT Service Desk")


def p_multiline_gap(g):
    u, pw = g.login(), g.pw()
    return (f"Hi team,\n\nfor the vendor audit next week they need read access to {g.svc()}.\n"
            f"I created the account:\n\n  {u}\n\nIt is restricted to the reporting group.\n"
            f"Password (one-time): {pw}\n\nPlease share it with the auditor by phone, not by mail.\n\nThanks,\n{g.full()}")


def p_slack(g):
    a, b = g.first(), g.first()
    pw = g.pw()
    h = g.n(8, 16)
    m1 = g.n(0, 40)
    m2, m3 = m1 + g.n(1, 9), m1 + g.n(10, 19)
    return (f"{a.capitalize()}  {h}:{m1:02d}\nanyone know the login for the {g.c(DEVICES)}?\n"
            f"{b.capitalize()}  {h}:{m2:02d}\nadmin / {pw}\n"
            f"{a.capitalize()}  {h}:{m3:02d}\nthx, that worked :+1:\n\n"
            f"^ pasted from slack, can you summarize this thread for the ops log?")


def p_ticket(g):
    pw, u = g.pw(), g.login()
    return (f"Ticket {g.ticket()} — {g.c(['Priority: High', 'Priority: Medium'])}\nRequester: {g.full()}\n"
            f"Summary: Cannot access shared mailbox\nDescription:\nUser {u} cannot open the finance mailbox since the migration. "
            f"I reset the password to {pw} and asked them to try again, still failing.\n\n"
            f"Please help me write a reply to the user.")


def p_wifi(g):
    key = g.pw(kind=g.c(["phrase", "random", "alnum", "word"]), avoid='"\\')
    ssid = g.c(SSIDS)
    return g.c([
        f"Guest Wi-Fi for the event: SSID {ssid}, WPA2 key {key}",
        f"network={{\n    ssid=\"{ssid}\"\n    psk=\"{key}\"\n    key_mgmt=WPA-PSK\n}}\nmy pi doesn't connect with this wpa_supplicant.conf",
        f"nmcli dev wifi connect \"{ssid}\" password '{g.pw(kind='phrase', avoid=SHELL_AVOID[:-1])}'",
        f"wifi pw for the {g.c(['meeting room', 'lab', 'warehouse', 'flat'])}: {key}",
    ])


def p_app_password(g):
    ap = g.app_password()
    em = g.email()
    return g.c([
        f"I generated a Gmail app password ({ap}) for {em} but Thunderbird still says authentication failed",
        f"Outlook SMTP settings: server smtp.office365.com, port 587, user {em}, app password {ap.replace(' ', '')}",
    ])


def p_service_account(g):
    acc, pw = g.c(SVC_ACCOUNTS), g.pw()
    return g.c([
        f"The scheduled task runs as CORP\\{acc} (password: {pw}) and fails with 0x80070005 since yesterday.",
        f"service account for the scanner to SMB: {acc} / {pw}. the copier says 'login error'.",
        f"We use {acc} with password {pw} for the Veeam jobs — is it safe to also use it for SQL backups?",
    ])


def p_pin(g):
    p = g.pin(4, 8)
    return g.c([
        f"The admin password on the {g.c(DEVICES)} web UI is just {p}, I know, I know. How do I enforce a stronger one?",
        f"voicemail password: {p} — can you tell me how to change the greeting on a Cisco phone?",
        f"Synology DSM login for the office: admin / {p}",
    ])


def p_ldap(g):
    pw = g.pw(avoid=SHELL_AVOID)
    dc = g.company().replace("-", "")
    return f"ldapsearch -x -H ldap://dc01.{g.domain()} -D \"cn={g.c(SVC_ACCOUNTS)},ou=service,dc={dc},dc=local\" -w '{pw}' -b \"dc={dc},dc=local\" \"(sAMAccountName={g.login()})\""


def p_redis_mongo(g):
    pw = g.pw(avoid=CONN_AVOID + "%")
    return g.c([
        f"redis-cli -h {g.host_or_ip()} -p 6379 -a '{pw}' INFO replication",
        f"MONGO_URI=mongodb://{g.c(DB_USERS)}:{pw}@{g.host_or_ip()}:27017/{g.db()}?authSource=admin",
        f"DATABASE_URL=postgres://{g.c(DB_USERS)}:{pw}@{g.host_or_ip()}:5432/{g.db()}",
    ])


def p_sql_ddl(g):
    pw = g.pw(avoid="'\\")
    u = g.c(DB_USERS)
    return g.c([
        f"CREATE USER '{u}'@'%' IDENTIFIED BY '{pw}';\nGRANT SELECT, INSERT, UPDATE ON {g.db()}.* TO '{u}'@'%';\nFLUSH PRIVILEGES;",
        f"ALTER USER {u} WITH PASSWORD '{pw}';\n-- ran this on {g.env()} but the app still can't connect",
        f"CREATE LOGIN [{u}] WITH PASSWORD = N'{pw}', CHECK_POLICY = OFF;",
    ])


def p_chpasswd(g):
    pw = g.pw(avoid=SHELL_AVOID + ":")
    u = g.c(["deploy", "ubuntu", g.first(), "backup"])
    return g.c([
        f"echo '{u}:{pw}' | sudo chpasswd",
        f"useradd -m {u} && echo \"{u}:{g.pw(avoid=SHELL_AVOID + ':$!')}\" | chpasswd  # in our cloud-init user-data",
    ])


def p_pgpass_netrc(g):
    pw = g.pw(avoid=" :\\")
    return g.c([
        f"~/.pgpass:\n{g.host()}:5432:{g.db()}:{g.c(DB_USERS)}:{pw}\n\nchmod is 600, psql still prompts",
        f"~/.netrc\nmachine ftp.{g.domain()}\n  login {g.login()}\n  password {pw}",
        f"/etc/samba/creds-{g.c(['scans', 'backup', 'finance'])}:\nusername={g.c(SVC_ACCOUNTS)}\npassword={pw}\ndomain=CORP",
    ])


def p_meeting_notes(g):
    pw = g.pw()
    return (f"Meeting notes {g.date()} — migration to new {g.c(['CRM', 'ERP', 'ticketing system'])}\n"
            f"Attendees: {g.full()}, {g.full()}, {g.full()}\n"
            f"1. Cutover planned for the weekend\n2. Test tenant is live: https://test.{g.domain()}\n"
            f"   credentials for everyone: {g.c(['tester', 'uat', 'demo_admin'])} / {pw}\n"
            f"3. Data import scripts owned by {g.first().capitalize()}\n\nPlease turn this into an action item list.")


def p_ci_script(g):
    pw = g.pw(avoid=SHELL_AVOID + "$")
    return (f"#!/bin/bash\nset -euo pipefail\nexport SPRING_DATASOURCE_USERNAME={g.c(DB_USERS)}\n"
            f"export SPRING_DATASOURCE_PASSWORD='{pw}'\n./gradlew flywayMigrate -Penv={g.env()}")


def p_ftp(g):
    pw = g.pw(avoid=SHELL_AVOID + ",")
    return g.c([
        f"lftp -u {g.login()},'{pw}' sftp://files.{g.domain()}",
        f"WinSCP session: host sftp.{g.domain()}, port 22, user {g.login()}, password {pw}. Transfer fails at 99%.",
    ])


def p_router(g):
    pw = g.pw()
    return g.c([
        f"I'm locked out of my {g.c(DEVICES)} at {g.ip()}. Tried admin/{pw}, which is what I set last month. Factory reset is my last resort.",
        f"The iLO of {g.c(['esx01', 'esx02', 'hv-node3'])} is at https://{g.ip()} — Administrator / {pw}. Can you give me a redfish curl to power cycle it?",
    ])


def p_json_payload(g):
    u, pw = g.login(), g.pw()
    body = {"grant_type": "password", "username": u, "password": pw, "client_id": "web-portal"}
    return g.c(["Why does this token request return invalid_grant?\n", "POST /oauth/token\n"]) + json.dumps(body, indent=2)


def p_jupyter(g):
    pw = g.pw()
    return (f"In [2]: user, pw, host = '{g.c(DB_USERS)}', {pyq(pw)}, '{g.host()}'\n"
            f"In [3]: engine = create_engine(f\"postgresql+psycopg2://{{user}}:{{pw}}@{{host}}/{g.db()}\")\n"
            f"OperationalError: could not connect to server: Connection timed out")


def p_remember(g):
    pw = g.pw()
    return g.c([
        f"Note to self: bank portal login changed, new one is {pw}",
        f"can you remember for me that my {g.c(['Netflix', 'Steam', 'Amazon', 'PayPal', 'Instagram'])} password is {pw}",
        f"My password for {g.c(['the school portal', 'Moodle', 'the library account', 'Canvas'])} is {pw}, can you write it as a mnemonic so I don't forget?",
    ])


POSITIVE_TEMPLATES = [
    p_chat_login, p_dotenv, p_spring_yaml, p_ini, p_json_smtp, p_xml_connstr, p_xml_generic, p_toml,
    p_properties, p_compose, p_k8s_secret, p_terraform, p_ansible, p_helm, p_mysql_cli, p_psql_cli,
    p_curl, p_sshpass, p_windows_cmd, p_htpasswd, p_docker_login, p_git_url, p_python, p_js, p_java,
    p_csharp, p_go, p_php, p_log_leak, p_csv, p_md_table, p_handover, p_passphrase, p_german,
    p_spanish, p_french, p_before_word, p_backticks, p_short_labels, p_typo, p_email_onboard,
    p_multiline_gap, p_slack, p_ticket, p_wifi, p_app_password, p_service_account, p_pin, p_ldap,
    p_redis_mongo, p_sql_ddl, p_chpasswd, p_pgpass_netrc, p_meeting_notes, p_ci_script, p_ftp,
    p_router, p_json_payload, p_jupyter, p_remember,
]


# ---------------------------------------------------------------------------
# NEGATIVE templates (no email / IP / connection string / API key allowed)
# ---------------------------------------------------------------------------
PLACEHOLDERS = ["changeme", "<password>", "${DB_PASSWORD}", "{{ vault_db_password }}", "xxxx",
                "********", "your-password-here", "REPLACE_ME", "<YOUR_PASSWORD>", "CHANGE_ME",
                "TODO", "<redacted>", "%DB_PASS%", "$(DB_PASSWORD)", "<insert password>", "XXXXXXXX"]


def n_dotenv_placeholder(g):
    ph = g.c(PLACEHOLDERS)
    return g.c([
        f"# .env.example — copy to .env and fill in\nDB_HOST=localhost\nDB_PORT=5432\nDB_USER={g.c(DB_USERS)}\nDB_PASSWORD={ph}\n",
        f"Here's my .env.example for the README:\nAPP_ENV=local\nDB_DATABASE={g.db()}\nDB_USERNAME=root\nDB_PASSWORD={ph}",
    ]).strip()


def n_yaml_envref(g):
    var = g.c(["DB_PASSWORD", "SPRING_DATASOURCE_PASSWORD", "POSTGRES_PASSWORD", "MYSQL_PWD"])
    return g.c([
        f"spring:\n  datasource:\n    username: ${{DB_USER}}\n    password: ${{{var}}}\n    hikari:\n      maximum-pool-size: 10",
        f"spring:\n  datasource:\n    password: ${{{var}:}}\n# empty default so local startup fails fast if unset",
    ])


def n_ansible_vault_ref(g):
    return g.c([
        f"# group_vars/{g.env()}.yml\nmysql_root_password: \"{{{{ vault_mysql_root_password }}}}\"\nansible_become_pass: \"{{{{ vault_become_pass }}}}\"",
        f"db_password: !vault |\n          $ANSIBLE_VAULT;1.1;AES256\n          {g.alnum(64, '0123456789abcdef')}\n          {g.alnum(64, '0123456789abcdef')}",
        "- name: set app db password\n  lineinfile:\n    path: /etc/app/app.conf\n    regexp: '^password='\n    line: \"password={{ lookup('hashi_vault', 'secret=secret/data/app:password') }}\"",
    ])


def n_helm_template(g):
    return g.c([
        "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        name: {{ .Release.Name }}-db\n        key: password",
        f"auth:\n  existingSecret: {g.db()}-postgres-auth\n  secretKeys:\n    adminPasswordKey: postgres-password\n    userPasswordKey: password",
        "stringData:\n  password: {{ .Values.database.password | quote }}",
    ])


def n_k8s_secretref(g):
    return (f"containers:\n  - name: api\n    image: registry.local/{g.db()}-api:1.4\n    env:\n"
            f"      - name: DB_PASSWORD\n        valueFrom:\n          secretKeyRef:\n            name: {g.db()}-db-credentials\n            key: password")


def n_compose_file(g):
    return g.c([
        "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD_FILE: /run/secrets/db_password\n    secrets:\n      - db_password\nsecrets:\n  db_password:\n    file: ./secrets/db_password.txt",
        f"[database]\nhost = {g.host()}\nuser = {g.c(DB_USERS)}\npassword_file = /run/secrets/db\n",
        "mysql:\n  password_file: /etc/app/mysql.pass\n  password_command: \"pass show infra/mysql\"",
    ]).strip()


def n_terraform_var(g):
    return g.c([
        f"resource \"aws_db_instance\" \"{g.db()}\" {{\n  username = \"dbadmin\"\n  password = var.db_password\n}}\n\nvariable \"db_password\" {{\n  type      = string\n  sensitive = true\n}}",
        "resource \"random_password\" \"db\" {\n  length  = 24\n  special = true\n}\n\nresource \"aws_db_instance\" \"main\" {\n  password = random_password.db.result\n}",
        "data \"aws_secretsmanager_secret_version\" \"db\" {\n  secret_id = \"prod/app/db\"\n}\nlocals {\n  db_password = jsondecode(data.aws_secretsmanager_secret_version.db.secret_string)[\"password\"]\n}",
    ])


def n_masked_log(g):
    u = g.login()
    mask = g.c(["********", "[REDACTED]", "***", "<hidden>", "[FILTERED]", "•••••••"])
    return g.c([
        f"{g.ts()} DEBUG [auth] POST /api/login body={{\"username\":\"{u}\",\"password\":\"{mask}\"}}\n{g.ts()} INFO  [auth] login ok for {u}",
        f"{g.ts()} INFO  Connecting with user={g.c(DB_USERS)} password={mask} host={g.host()}",
        f"Started POST \"/users/sign_in\"\n  Parameters: {{\"user\"=>{{\"login\"=>\"{u}\", \"password\"=>\"[FILTERED]\"}}, \"commit\"=>\"Log in\"}}",
    ])


def n_empty(g):
    return g.c([
        f"[database]\nhost = {g.host()}\nuser = {g.c(DB_USERS)}\npassword =\n\nwhy does it say 'no password supplied'?",
        f"{{\n  \"db\": {{\n    \"user\": \"{g.c(DB_USERS)}\",\n    \"password\": \"\"\n  }}\n}}",
        "DB_PASSWORD=\nREDIS_PASSWORD=\n# leave blank for local docker setup",
    ])


def n_policy(g):
    n = g.n(8, 16)
    return g.c([
        f"Password requirements:\n- at least {n} characters\n- one uppercase letter, one digit and one special character\n- must not reuse any of your last {g.n(3, 12)} passwords\n- expires every {g.c([60, 90, 180])} days",
        f"Can you rewrite our password policy to follow NIST 800-63B? Currently we require {n} characters minimum and rotation every 90 days.",
        f"Die Passwortrichtlinie verlangt mindestens {n} Zeichen, davon eine Ziffer und ein Sonderzeichen.",
    ])


def n_reset_email(g):
    name = g.full().split()[0]
    return g.c([
        f"Subject: Reset your password\n\nHi {name},\n\nWe received a request to reset the password for your account. "
        f"Click the button below to choose a new password. This link expires in 30 minutes.\n\n[Reset password]\n\n"
        f"If you didn't request this, you can ignore this email.\n\nThe {g.company().title()} Team",
        f"Subject: Your password was changed\n\nHi {name}, the password for your account was changed on {g.date()}. "
        f"If this wasn't you, contact the service desk immediately.",
    ])


def n_question(g):
    return g.c([
        f"how do I reset my password on {g.svc()}? the forgot-password link does nothing",
        "What's the difference between a password and a passphrase, and which should we recommend to staff?",
        f"I forgot the admin password of my {g.c(DEVICES)}. Is there a way to recover it without a factory reset?",
        "Should I store user passwords with bcrypt or argon2id in 2024?",
        "how often should service account passwords be rotated?",
    ])


def n_code_env(g):
    return g.c([
        "import os\n\nDB_PASSWORD = os.environ[\"DB_PASSWORD\"]\nconn = psycopg2.connect(host=os.getenv(\"DB_HOST\"), password=DB_PASSWORD)",
        "String password = System.getenv(\"DB_PASSWORD\");\nif (password == null || password.isEmpty()) {\n    throw new IllegalStateException(\"DB_PASSWORD not set\");\n}",
        "var password = builder.Configuration[\"Database:Password\"];\nvar cs = new SqlConnectionStringBuilder { Password = password };",
        "pass := os.Getenv(\"DB_PASS\")\nif pass == \"\" {\n\tlog.Fatal(\"DB_PASS must be set\")\n}",
        "const { DB_PASSWORD } = process.env;\nconst pool = new Pool({ password: DB_PASSWORD });",
    ])


def n_code_hash(g):
    return g.c([
        "import bcrypt\n\ndef check(password: str, stored_hash: bytes) -> bool:\n    return bcrypt.checkpw(password.encode(), stored_hash)",
        "$hash = password_hash($_POST['password'], PASSWORD_DEFAULT);\nif (password_verify($input, $row['password_hash'])) {\n    login($user);\n}",
        "const ok = await bcrypt.compare(req.body.password, user.passwordHash);\nif (!ok) return res.status(401).json({ error: 'Invalid credentials' });",
        "def set_password(self, raw_password):\n    self.password = make_password(raw_password)\n    self._password = raw_password",
    ])


def n_validation(g):
    n = g.n(8, 14)
    return g.c([
        f"const PASSWORD_RE = /^(?=.*[a-z])(?=.*[A-Z])(?=.*\\d)(?=.*[^\\w\\s]).{{{n},}}$/;\nif (!PASSWORD_RE.test(password)) setError('Password too weak');",
        f"def validate_password(pw):\n    if len(pw) < {n}:\n        raise ValueError('password must be at least {n} characters')\n    if pw.lower() == pw:\n        raise ValueError('password needs an uppercase letter')",
        "AUTH_PASSWORD_VALIDATORS = [\n    {'NAME': 'django.contrib.auth.password_validation.MinimumLengthValidator', 'OPTIONS': {'min_length': 12}},\n    {'NAME': 'django.contrib.auth.password_validation.CommonPasswordValidator'},\n]",
    ])


def n_schema(g):
    return g.c([
        "CREATE TABLE users (\n  id BIGSERIAL PRIMARY KEY,\n  email VARCHAR(255) UNIQUE NOT NULL,\n  password_hash VARCHAR(255) NOT NULL,\n  password_changed_at TIMESTAMPTZ\n);",
        "class User(Base):\n    __tablename__ = 'users'\n    id = Column(Integer, primary_key=True)\n    username = Column(String(64), unique=True)\n    password_hash = Column(String(128), nullable=False)",
        "model User {\n  id       Int    @id @default(autoincrement())\n  username String @unique\n  password String // bcrypt hash, never plain text\n}",
        "class LoginRequest(BaseModel):\n    username: str\n    password: SecretStr = Field(min_length=12)",
    ])


def n_ui_strings(g):
    return g.c([
        "{\n  \"login.username.label\": \"Username\",\n  \"login.password.label\": \"Password\",\n  \"login.password.placeholder\": \"Enter your password\",\n  \"login.forgot\": \"Forgot password?\"\n}",
        "<label for=\"pw\">Password</label>\n<input type=\"password\" id=\"pw\" name=\"password\" placeholder=\"Enter your password\" autocomplete=\"current-password\" required>",
        "Can you translate these UI strings to German? 'Enter your password', 'Confirm password', 'Show password', 'Passwords do not match'",
        "Username: ____________\nPassword: ____________\n[ ] Remember me     [Sign in]",
    ])


def n_pw_manager_doc(g):
    return g.c([
        "To share a login with your team, open 1Password, select the item, choose Share and pick the vault. The recipient never sees the password in plain text if you enable 'conceal'.",
        "Bitwarden's password generator lets you pick length (5-128), character sets and passphrase mode with a custom word separator.",
        f"The credentials for {g.svc()} are in KeePass under 'Infra/{g.c(['Prod DB', 'Firewall', 'Backups'])}' — ask {g.first().capitalize()} for access to the kdbx.",
        (lambda d: f"the {g.env()} db password is in Vault at secret/{d}/db, run `vault kv get -field=password secret/{d}/db` to fetch it")(g.db()),
    ])


def n_hash_labelled(g):
    return g.c([
        f"Row from the users table (hash, not the password):\nid=42 username={g.login()} password_hash={g.bcrypt()}\nIs this cost factor 12 ok?",
        f"Is this a valid bcrypt hash? {g.bcrypt()} — our login check always returns false",
        f"argon2 hash stored for test user: $argon2id$v=19$m=65536,t=3,p=4${g.alnum(22)}${g.alnum(43)}\nwhich parameters does this use?",
    ])


def n_other_pass(g):
    return g.c([
        f"My boarding pass says gate {g.c('ABCDE')}{g.n(1, 40)}, but the app shows a different one. Which do I trust?",
        "Could you pass the salt? — that's the example sentence, translate it to Spanish please.",
        f"In the scope trace PW = {g.n(2, 900)} µs (pulse width) and PRF is {g.n(1, 20)} kHz. Is the duty cycle too high?",
        f"We drove over the {g.c(['Brenner', 'Stelvio', 'Gotthard', 'Furka'])} Pass yesterday, any tips for the descent?",
        "Does this pass-through filter keep the low frequencies? The datasheet says passband up to 3 kHz.",
        f"Did everyone pass the {g.c(['AWS', 'CCNA', 'driving', 'German B2'])} exam? I got {g.n(70, 99)}%.",
        "the ski season pass costs more this year, is the mid-week pass worth it?",
    ])


def n_passport(g):
    return g.c([
        f"Booking form: Full name {g.full()}, nationality {g.c(['DE', 'FR', 'ES', 'IT'])}, passport no. "
        f"{g.c('CFGHJK')}{g.alnum(8, string.digits + 'CFGHJKLMNPRTVWXYZ')}, expiry 2031-0{g.n(1, 9)}-1{g.n(0, 9)}. Is the format right for the airline?",
        f"My passport expires in {g.c(['May', 'June', 'October'])} — can I still travel to the US on ESTA?",
        "What does the machine-readable zone on a passport contain and how is the check digit computed?",
        f"Passport renewal form asks for the old passport number, mine was lost. What do I write?",
    ])


def n_famous_bad(g):
    bad = g.c(["password123", "123456", "qwerty", "letmein", "Password1", "hunter2", "admin/admin", "iloveyou"])
    return g.c([
        f"'{bad}' is still one of the most common passwords in the breach lists. Write a short awareness slide on why that's bad.",
        f"Our policy blocks obvious choices like {bad} or Summer2024! — is a blocklist enough or should we check HIBP too?",
        f"lol remember the {bad} meme? anyway, can you explain credential stuffing?",
        f"Add {bad} to the banned-passwords list in the validator so people can't pick it.",
    ])


def n_shell_prompt(g):
    u = g.first()
    return g.c([
        f"$ mysql -u root -p -h {g.host()}\nEnter password:\nERROR 1045 (28000): Access denied for user 'root'",
        f"$ sudo apt update\n[sudo] password for {u}:\nSorry, try again.\nwhy does it reject my password?",
        f"$ psql -h {g.host()} -U postgres\nPassword for user postgres:\npsql: error: FATAL:  password authentication failed",
        f"$ sudo passwd {u}\nNew password:\nRetype new password:\npasswd: password updated successfully",
        f"$ pwd\n/home/{u}/projects/{g.db()}\n$ ls\nREADME.md  src  tests",
    ])


def n_expiry_notice(g):
    return g.c([
        f"Your password will expire in {g.n(1, 14)} days. Press Ctrl+Alt+Del and choose 'Change a password' to update it.",
        f"Warning: your password has expired and must be changed. Contact the service desk ({g.ticket()}).",
        "Error: The password for this account has expired. (AADSTS50055) — what does this mean for our service principal?",
    ])


def n_runbook(g):
    return g.c([
        f"Runbook: rotate {g.c(SVC_ACCOUNTS)} password\n1. Generate a new value with the password manager (32 chars)\n"
        f"2. Update the secret in Vault: secret/{g.env()}/{g.db()}\n3. Restart the pods so they pick up the new secret\n"
        "4. Verify login in the logs — never paste the password in the ticket",
        f"Handover notes from {g.full()}:\n- root pw on the {g.c(['backup', 'db', 'jump'])} hosts was rotated on {g.date()}; new one is in "
        f"the '{g.c(['Infra', 'Ops', 'Platform'])}' vault in 1Password\n- nightly backups still run at 02:00\n- ask me on my phone if anything breaks",
        f"After the incident we rotated every credential for {g.svc()}. New values are only in Vault under secret/{g.env()}/{g.db()}; "
        "please don't copy them into tickets or chat.",
    ])


def n_ticket_no_pw(g):
    return g.c([
        f"Ticket {g.ticket()}\nRequester: {g.full()}\nSummary: locked out after password change\n"
        f"Resolution: unlocked the AD account and sent a self-service reset link. The user set a new password themselves; "
        f"no password was shared over the phone.",
        f"Ticket {g.ticket()} — {g.svc()} login fails\nSteps taken: verified MFA, cleared cached credentials in Credential Manager, "
        f"asked the user to re-enter the password. Root cause: Caps Lock. Closing.",
        f"Ticket {g.ticket()}\nUser {g.login()} reports 'password incorrect' on {g.svc()} after the SSO migration.\n"
        f"Workaround: sign in via the SSO button instead of the local login form. Local passwords were disabled on {g.date()}.",
    ])


def n_sops(g):
    return (f"db:\n    user: {g.c(DB_USERS)}\n    password: ENC[AES256_GCM,data:{g.alnum(24)},iv:{g.alnum(43)}=,tag:{g.alnum(22)}==,type:str]\n"
            f"sops:\n    kms: []\n    version: 3.8.1")


def n_generate_code(g):
    return g.c([
        "import secrets\n\ndef new_password(n=20):\n    return secrets.token_urlsafe(n)",
        "openssl rand -base64 24 | kubectl create secret generic db --from-file=password=/dev/stdin",
        "pwgen -s 24 1  # generate one, then store it in vault, don't echo it anywhere",
        "string temp = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)); // temporary password, emailed via reset flow",
    ])


def n_placeholder_docs(g):
    ph = g.c(["USERNAME:PASSWORD", "user:<password>", "$USER:$PASS", "admin:REPLACE_ME"])
    return g.c([
        f"README:\n```\ncurl -u {ph} https://api.{g.company()}.dev/v1/status\n```\nReplace the values with your own credentials.",
        f"docker login -u <username> -p <password> registry.{g.company()}.dev\n(from our onboarding docs — should we recommend --password-stdin instead?)",
        f"sshpass -p \"$SSH_PASS\" ssh deploy@web01 'sudo systemctl restart nginx'",
        f"git clone https://git.{g.company()}.dev/team/app.git\n# you'll be prompted for username and password — use a personal access token as the password",
    ])


def n_md_masked(g):
    rows = "\n".join(f"| {g.c(SERVICES)} | {g.user()} | {g.c(['stored in Vault', '••••••••', 'see 1Password', '(SSO)', 'n/a'])} |"
                     for _ in range(g.n(2, 4)))
    return f"| System | Account | Password |\n|---|---|---|\n{rows}"


def n_login_failed_log(g):
    return g.c([
        f"{g.ts()} Error: 18456, Severity: 14, State: 8.\nLogin failed for user '{g.c(DB_USERS)}'. Reason: Password did not match that for the login provided.",
        f"{g.ts()} sshd[{g.n(1000, 60000)}]: Failed password for invalid user {g.c(['admin', 'oracle', 'test'])} from bastion port {g.n(30000, 60000)} ssh2",
        f"{g.ts()} WARN  Authentication failure for user {g.login()}: bad password (attempt {g.n(1, 5)}/5)",
    ])


def n_foreign_prose(g):
    return g.c([
        "Passwort vergessen? Klicken Sie auf den Link, um ein neues Passwort festzulegen.",
        "¿Olvidaste tu contraseña? Te enviaremos un enlace para restablecerla.",
        "Mot de passe oublié ? Saisissez votre identifiant pour recevoir un lien de réinitialisation.",
        "Bitte geben Sie Ihr Kennwort niemals telefonisch weiter – die IT fragt nie danach.",
        "La contraseña debe tener al menos 12 caracteres y no puede contener tu nombre.",
    ])


def n_wifi_noval(g):
    ssid = g.c(SSIDS)
    return g.c([
        f"The guest Wi-Fi is {ssid}; the password is on the card at reception and changes every Monday.",
        f"How do I show the saved Wi-Fi password for {ssid} on Windows? netsh wlan show profile ... key=clear?",
        f"network={{\n    ssid=\"{ssid}\"\n    psk=<your-wifi-key>\n}}",
    ])


def n_pin_policy(g):
    return g.c([
        f"Enter the {g.c([6, 8])}-digit code we sent to your phone. The code expires in 10 minutes.",
        "Windows Hello PIN must be at least 6 digits and can't be a simple pattern like 123456 or 111111.",
        "Change your SIM PIN in Settings > Cellular > SIM PIN.",
    ])


def n_passwordless(g):
    return g.c([
        "How do I set up passwordless SSH between two servers? ssh-keygen then ssh-copy-id?",
        "We want to move to passwordless login with FIDO2 keys — what's the rollout plan for 500 users?",
        "Is `PasswordAuthentication no` in sshd_config enough to disable password logins?",
    ])


def n_config_keys_only(g):
    return g.c([
        "| key | type | description |\n|---|---|---|\n| `db.password` | string | Database password (required, read from env) |\n| `db.user` | string | Database user |",
        "--password string   Password for the registry (use --password-stdin instead)\n--username string   Username",
        "password: (required) The password used to authenticate. Must be supplied via the APP_DB_PASSWORD environment variable.",
    ])


def n_variable_names(g):
    return g.c([
        "Rename `password` to `passwordHash` in the DTO so nobody thinks it's plaintext.",
        "the field `pw` in the API response is actually `page weight`, can we rename it?",
        "mypy complains: Argument \"password\" has incompatible type \"Optional[str]\"; expected \"str\"",
        "In the form, `confirm_password` must match `new_password` before we enable the submit button.",
    ])


def n_connection_noval(g):
    return g.c([
        f"Server={g.host()};Database={g.db()};Integrated Security=True;TrustServerCertificate=True",
        f"host={g.host()} port=5432 dbname={g.db()} user={g.c(DB_USERS)} sslmode=verify-full  # password comes from ~/.pgpass",
        f"[client]\nuser={g.c(DB_USERS)}\n# password is read from the login-path, see mysql_config_editor",
    ])


def n_ssh_key_auth(g):
    return g.c([
        f"Host {g.c(['bastion', 'jump', 'build'])}\n  HostName {g.host()}\n  User {g.c(['deploy', 'ec2-user', 'ubuntu'])}\n"
        f"  IdentityFile ~/.ssh/id_ed25519\n  PasswordAuthentication no",
        f"# /etc/ssh/sshd_config.d/50-hardening.conf\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        f"KbdInteractiveAuthentication no\nMaxAuthTries {g.n(3, 6)}",
    ])


def n_breach_stats(g):
    return g.c([
        f"In our phishing test, {g.n(5, 40)}% of staff entered their password on the fake page. How should we present this to the board?",
        f"HIBP reports {g.n(2, 60)} of our employee accounts in breaches. Which ones need a forced password reset first?",
        "Summarize the Verizon DBIR finding on stolen credentials as the top initial access vector.",
    ])


def n_reset_command_noval(g):
    u = g.login()
    return g.c([
        f"Set-ADAccountPassword -Identity {u} -Reset -NewPassword (Read-Host -AsSecureString 'New password')",
        f"kubectl create secret generic app-db --from-literal=password=\"$DB_PASSWORD\" -n {g.env()}",
        f"echo \"$NEW_PW\" | passwd --stdin {u}",
        f"ALTER USER {g.c(DB_USERS)} WITH PASSWORD :'new_password';  -- value passed with psql -v",
    ])


def n_slack_no_value(g):
    a, b = g.first().capitalize(), g.first().capitalize()
    return (f"{a}  9:{g.n(10, 30)}\ncan someone send me the {g.c(DEVICES)} admin password?\n"
            f"{b}  9:{g.n(31, 45)}\nnot here :) shared it with you via a 1Password link, expires in 24h\n"
            f"{a}  9:{g.n(46, 59)}\ngot it, thanks\n\nsummarize this thread for the weekly ops notes please")


def n_onboarding_no_pw(g):
    return (f"Subject: Welcome to {g.company().replace('-', ' ').title()}\n\nHi {g.first().capitalize()},\n\n"
            f"your account {g.login()} is ready. For security reasons your initial password will be sent to you "
            f"by SMS on your first day. You'll be asked to set your own password and enroll MFA.\n\nIT Service Desk")


def n_swagger_example(g):
    return g.c([
        "Swagger UI shows this example body for POST /auth/login:\n{\n  \"username\": \"string\",\n  \"password\": \"string\"\n}\nHow do I make the password field hidden in the docs?",
        "LoginRequest:\n  type: object\n  required: [username, password]\n  properties:\n    username:\n      type: string\n    password:\n      type: string\n      format: password\n      minLength: 12",
    ])


def n_getpass(g):
    return g.c([
        "import getpass\n\nuser = input('Username: ')\npassword = getpass.getpass('Password: ')\nclient.login(user, password)",
        "read -s -p \"Password: \" DB_PASS\necho\nmysql -u \"$DB_USER\" -p\"$DB_PASS\" -e 'select 1'",
        "$cred = Get-Credential -Message 'Enter the service account password'\nInvoke-Command -ComputerName srv-app01 -Credential $cred -ScriptBlock { hostname }",
    ])


def n_csv_no_pw(g):
    rows = "\n".join(f"{g.login()},{g.date()},{g.c(['true', 'false'])},{g.n(0, 5)}" for _ in range(g.n(2, 4)))
    return "Can you find users who haven't changed their password in a year?\nusername,password_last_set,mfa_enabled,failed_logins\n" + rows


def n_compose_envref(g):
    return ("services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_USER: ${POSTGRES_USER:-app}\n"
            "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}\n    env_file: .env")


NEGATIVE_TEMPLATES = [
    n_slack_no_value, n_onboarding_no_pw, n_swagger_example, n_getpass, n_csv_no_pw, n_compose_envref,
    n_dotenv_placeholder, n_yaml_envref, n_ansible_vault_ref, n_helm_template, n_k8s_secretref,
    n_compose_file, n_terraform_var, n_masked_log, n_empty, n_policy, n_reset_email, n_question,
    n_code_env, n_code_hash, n_validation, n_schema, n_ui_strings, n_pw_manager_doc, n_hash_labelled,
    n_other_pass, n_passport, n_famous_bad, n_shell_prompt, n_expiry_notice, n_runbook,
    n_ticket_no_pw, n_sops, n_generate_code, n_placeholder_docs, n_md_masked, n_login_failed_log,
    n_foreign_prose, n_wifi_noval, n_pin_policy, n_passwordless, n_config_keys_only,
    n_variable_names, n_connection_noval, n_ssh_key_auth, n_breach_stats, n_reset_command_noval,
]


# ---------------------------------------------------------------------------
# optional-code detection (keeps "optional" consistent with the text)
# ---------------------------------------------------------------------------
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_IPV4 = re.compile(r"(?<![\d.])(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}(?![\d.])")
_IP_URL = re.compile(r"[a-z][a-z0-9+.-]*://(?:[^/\s@]*@)?\d{1,3}(?:\.\d{1,3}){3}", re.I)
_DB = [
    re.compile(r"\b(?:postgres(?:ql)?(?:\+\w+)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|mssql|sqlserver|amqps?|oracle)://", re.I),
    re.compile(r"jdbc:[a-z]+:", re.I),
    re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^@\s]+@", re.I),
    re.compile(r"(?:Server|Data Source)=[^;\n]+;[^\n]*(?:Password|Pwd)=", re.I),
    re.compile(r"\w+:[^@\s]+@tcp\("),
    re.compile(r"mysql:host="),
]
_API = re.compile(r"sk_live_[A-Za-z0-9]{20,}|SG\.[\w-]{20,}\.[\w-]{20,}|AKIA[A-Z0-9]{16}|ghp_[A-Za-z0-9]{36}")


def detect_optional(text):
    out = []
    if _EMAIL.search(text):
        out.append("DLP.PII.EMAIL")
    if _IPV4.search(text):
        out.append("DLP.PII.IP_ADDRESS")
    if any(p.search(text) for p in _DB):
        out.append("DLP.SECRET.DB_CONNECTION_STRING")
    if _IP_URL.search(text):
        out.append("EGRESS.IP_LITERAL_URL")
    if _API.search(text):
        out.append("DLP.SECRET.GENERIC_API_KEY")
    return out


# ---------------------------------------------------------------------------
# builder
# ---------------------------------------------------------------------------

def _schedule(rng, templates, count):
    order = []
    while len(order) < count:
        block = list(templates)
        rng.shuffle(block)
        order.extend(block)
    return order[:count]


def _build(seed, per_class, with_template=False):
    rng = random.Random(seed)
    g = G(rng)
    records = []
    seen = set()
    for cls, templates, tag in (("pos", POSITIVE_TEMPLATES, "pos"), ("neg", NEGATIVE_TEMPLATES, "neg")):
        for i, tpl in enumerate(_schedule(rng, templates, per_class), 1):
            text = None
            for _attempt in range(60):
                cand = tpl(g)
                if cand not in seen:
                    text = cand
                    break
            if text is None:  # template exhausted: borrow another one
                for alt in rng.sample(templates, len(templates)):
                    cand = alt(g)
                    if cand not in seen:
                        text, tpl = cand, alt
                        break
            seen.add(text)
            opt = detect_optional(text)
            if tag == "neg" and opt:
                raise AssertionError(f"negative {tpl.__name__} triggers {opt}: {text!r}")
            rec = {
                "id": f"round6-password-{tag}-{i:04d}",
                "class": "password",
                "text": text,
                "expected": [LABEL] if tag == "pos" else [],
                "optional": opt if tag == "pos" else [],
            }
            if with_template:
                rec["template"] = tpl.__name__
            records.append(rec)
    return records


def build_round6(seed=6, per_class=200):
    return _build(seed, per_class)


def template_counts():
    return {"positive": len(POSITIVE_TEMPLATES), "negative": len(NEGATIVE_TEMPLATES)}


if __name__ == "__main__":
    out = sys.stdout
    for rec in build_round6():
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")
