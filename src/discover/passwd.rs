//! The accounts of the host, read from a passwd(5) file.
//!
//! The file is read rather than asked of NSS (`getpwent`): its path can be
//! named in the policy, it lists only local accounts (a directory service
//! with thousands of users is not walked every night), and reading it needs
//! no unsafe code. Accounts a directory service serves are reached through
//! `[discover] globs` (`/home/*/go/pkg/mod`).

use std::path::{Path, PathBuf};

/// One line of the passwd file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

/// The accounts in passwd(5) text: `name:password:uid:gid:gecos:home:shell`.
/// Comments, NIS `+`/`-` lines and lines that do not have seven fields, a
/// numeric uid and gid and an absolute home are left out.
#[must_use]
pub fn parse(text: &str) -> Vec<Account> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with(['#', '+', '-']))
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            let [name, _, uid, gid, _, home, _] = fields[..] else { return None };
            let home = Path::new(home);
            (!name.is_empty() && home.is_absolute()).then_some(())?;
            Some(Account {
                name: name.to_owned(),
                uid: uid.parse().ok()?,
                gid: gid.parse().ok()?,
                home: home.to_owned(),
            })
        })
        .collect()
}

/// The accounts in the passwd file at `path`.
pub fn read(path: &Path) -> std::io::Result<Vec<Account>> {
    Ok(parse(&std::fs::read_to_string(path)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_accounts_and_skips_what_is_not_one() {
        let text = "root:x:0:0:root:/root:/bin/bash\n\
                    # a comment\n\
                    +nisuser::::::\n\
                    ci:x:1001:1001:CI runner,,,:/home/ci:/bin/sh\n\
                    short:x:5:5\n\
                    relhome:x:7:7::home/x:/bin/sh\n\
                    baduid:x:abc:7::/home/x:/bin/sh\n\
                    \n\
                    nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin";
        let accounts = parse(text);
        let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["root", "ci", "nobody"]);
        assert_eq!(accounts[1], Account { name: "ci".into(), uid: 1001, gid: 1001, home: "/home/ci".into() });
    }

    #[test]
    fn the_hosts_file_parses() {
        let accounts = read(Path::new("/etc/passwd")).unwrap();
        assert!(accounts.iter().any(|a| a.uid == 0), "{accounts:?}");
    }
}
