//! Both editions find the same files: a kernel starts in the notebook's own folder (`notebooks/`
//! or `notebooks/student/`), so a path like `../data/x.csv` means two different places. Every
//! notebook enters the repository root first (`din_teach::enter_repo_root`) and names files
//! from there.

use std::path::Path;

fn code_cells(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .map(|c| match &c["source"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_str()).collect(),
            _ => String::new(),
        })
        // evcxr's own commands (`:dep din = { path = "../crates/din" }`) are resolved by the
        // kernel before any cell runs, from the notebook's folder: each edition has its own
        .map(|src: String| {
            src.lines()
                .filter(|l| !l.trim_start().starts_with(':'))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}

#[test]
fn every_notebook_enters_the_repository_root_before_it_names_a_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for edition in ["", "student"] {
        for entry in std::fs::read_dir(dir.join(edition)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "ipynb") {
                continue;
            }
            let cells = code_cells(&path);
            let names_a_file = |c: &str| {
                ["\"data/", "\"out/", "\"runs/", "\"../"]
                    .iter()
                    .any(|p| c.contains(p))
            };
            for (i, c) in cells.iter().enumerate() {
                assert!(
                    !c.contains("\"../"),
                    "{}: code cell {i} names a path relative to the notebook's folder (\"../…\"), \
                     which differs between the teacher's and the student's edition",
                    path.display()
                );
            }
            let enter = cells.iter().position(|c| c.contains("enter_repo_root()"));
            let first_file = cells.iter().position(|c| names_a_file(c));
            match (enter, first_file) {
                (Some(e), Some(f)) => {
                    // in the same cell, the call comes first
                    let first_path = |c: &str| {
                        ["\"data/", "\"out/", "\"runs/"]
                            .iter()
                            .filter_map(|p| c.find(p))
                            .min()
                    };
                    let before = e < f
                        || (e == f && cells[e].find("enter_repo_root()") < first_path(&cells[e]));
                    assert!(
                        before,
                        "{}: code cell {f} names a file before cell {e} enters the repository root",
                        path.display()
                    )
                }
                (None, _) => panic!(
                    "{}: no cell calls din_teach::enter_repo_root()",
                    path.display()
                ),
                (Some(_), None) => {}
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 12, "six notebooks in each edition");
}

#[test]
fn entering_the_root_from_the_student_folder_finds_the_repositorys_folders() {
    let student = Path::new(env!("CARGO_MANIFEST_DIR")).join("student");
    std::env::set_current_dir(&student).unwrap();
    let root = din_teach::enter_repo_root().unwrap();
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(cwd.canonicalize().unwrap(), root.canonicalize().unwrap());
    assert!(Path::new("notebooks/student").is_dir());
    assert!(Path::new("crates/din/Cargo.toml").is_file());
    assert_eq!(
        root.canonicalize().unwrap(),
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .canonicalize()
            .unwrap()
    );
}
