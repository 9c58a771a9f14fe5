//! Learning on the demo world, with the tutorial's own settings (`din tutorial`): DIN beats the
//! base model on test AUC, its attention ranks same-interest history items above the others
//! (attention AUC against the world's ground truth ≥ 0.9), and the tutorial's example comes out as
//! the tutorial says.

use din::tutorial::{self, TutorialConfig};

#[test]
fn din_beats_base_and_attention_finds_the_interests() {
    let cfg = TutorialConfig::default();
    let r = tutorial::run(&cfg, None, &mut |_, _| {}).unwrap();
    println!("{}", r.table());
    assert!(
        r.din.test.auc > r.base.test.auc + 0.01,
        "DIN {:.4} vs base {:.4}",
        r.din.test.auc,
        r.base.test.auc
    );
    assert!(r.din.test.gauc > r.base.test.gauc);
    let att = r
        .attention_auc
        .expect("attention AUC is defined on the demo world");
    assert!(att >= 0.9, "attention AUC {att:.4}");
    assert!(r.example_as_tutorial, "{:?}", r.example);
    // the report's figures render
    let figs = tutorial::figures(&r).unwrap();
    assert_eq!(figs.len(), 5);
    assert!(figs.iter().all(|(_, svg)| svg.0.contains("<svg")));
}
