//! Every exercise check of every notebook, run natively against both editions: each check must
//! pass on the teacher's solution (`notebooks/NN_*.ipynb`) and fail on the student's stub
//! (`notebooks/student/NN_*.ipynb`). The programs are assembled by `build.rs` from the committed
//! notebooks' exercise and check cells.

use din_teach::exercises::Verdict;

pub struct Notebook {
    pub name: &'static str,
    pub teacher: fn() -> Vec<Verdict>,
    pub student: fn() -> Vec<Verdict>,
}

include!(concat!(env!("OUT_DIR"), "/exercises.rs"));

#[test]
fn every_check_passes_on_the_teachers_edition_and_fails_on_the_students() {
    let mut problems = Vec::new();
    let mut counted = 0;
    for nb in NOTEBOOKS {
        let teacher = (nb.teacher)();
        let student = (nb.student)();
        assert_eq!(
            teacher.len(),
            student.len(),
            "{}: both editions have the same checks",
            nb.name
        );
        if teacher.len() < 2 {
            problems.push(format!(
                "{}: {} checked exercises (at least 2 wanted)",
                nb.name,
                teacher.len()
            ));
        }
        for (t, s) in teacher.iter().zip(&student) {
            counted += 1;
            if !t.passed {
                problems.push(format!(
                    "{}: teacher's solution fails `{}`: {}",
                    nb.name, t.exercise, t.en
                ));
            }
            if s.passed {
                problems.push(format!(
                    "{}: the student's stub passes `{}`",
                    nb.name, s.exercise
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{counted} checks:\n{}",
        problems.join("\n")
    );
    println!("{counted} checks: all pass on the teacher's edition, all fail on the student's");
}
