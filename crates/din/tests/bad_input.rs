//! Users' own logs: every oddity is a clear error naming file, line and column, or a documented
//! behaviour — never a panic or a silent wrong answer.

use din::data::{build, Events, SplitConfig};
use din::model::ModelConfig;
use din::train::TrainConfig;

/// Writes `bytes` to a scratch file `name` and reads it as events (the scratch dir lives
/// until the read is done).
fn read(name: &str, bytes: &[u8]) -> din::Result<Events> {
    let d = din::io::test_dir(&format!("bad_{}", name.replace('.', "_")));
    let p = d.join(name);
    std::fs::write(&p, bytes).unwrap();
    Events::read_csv(p)
}

fn err(name: &str, bytes: &[u8]) -> String {
    match read(name, bytes) {
        Err(e) => e.to_string(),
        Ok(ev) => panic!("{name} loaded: {ev:?}"),
    }
}

#[test]
fn overflowing_id_names_line_and_column() {
    let e = err(
        "overflow.csv",
        b"user_id,item_id,time,cate_id\n1,2,3,4\n1,99999999999999999999999,4,4\n",
    );
    assert!(e.contains("overflow.csv:3") && e.contains("item_id"), "{e}");
}

#[test]
fn non_utf8_bytes_are_an_error_naming_the_line() {
    let e = err(
        "latin1.csv",
        b"user_id,item_id,time,cate_id\n1,2,3,4\n1,\xe9\xff,4,4\n",
    );
    assert!(e.contains("latin1.csv") && e.contains(":3"), "{e}");
}

#[test]
fn crlf_line_ends_read_like_lf() {
    let lf = read(
        "lf.csv",
        b"user_id,item_id,time,cate_id\n1,2,3,4\n1,5,6,4\n",
    )
    .unwrap();
    let crlf = read(
        "crlf.csv",
        b"user_id,item_id,time,cate_id\r\n1,2,3,4\r\n1,5,6,4\r\n",
    )
    .unwrap();
    assert_eq!(lf, crlf);
}

#[test]
fn one_event_users_are_dropped_and_counted_and_time_order_is_restored() {
    // user 1: events out of time order; user 2: a single event; user 3: duplicated event
    let text = "user_id,item_id,time,cate_id\n1,12,30,1\n1,10,10,1\n1,11,20,2\n2,10,5,1\n3,11,7,2\n3,11,7,2\n3,12,9,1\n";
    let ev = read("mixed.csv", text.as_bytes()).unwrap();
    let ds = build(&ev, SplitConfig::default()).unwrap();
    assert_eq!(ds.stats.users_single_event, 1, "{:?}", ds.stats);
    // user 1's test row: history [10, 11] (time order), target 12
    let u1 = ds.vocab.users.get(1).unwrap();
    let r = (0..ds.test.len())
        .find(|&r| ds.test.user[r] == u1 && ds.test.label[r] == 1.0)
        .unwrap();
    let hist: Vec<i64> = ds
        .test
        .history(r)
        .0
        .iter()
        .map(|&i| ds.vocab.items.raw(i).unwrap())
        .collect();
    assert_eq!(hist, vec![10, 11]);
    assert_eq!(ds.vocab.items.raw(ds.test.target_item[r]), Some(12));
    // duplicated events are kept as separate clicks (a repeat purchase is a real signal)
    let u3 = ds.vocab.users.get(3).unwrap();
    let r = (0..ds.test.len())
        .find(|&r| ds.test.user[r] == u3 && ds.test.label[r] == 1.0)
        .unwrap();
    assert_eq!(ds.test.history(r).0.len(), 2);
}

#[test]
fn huge_sparse_ids_are_dense_encoded() {
    let text = "user_id,item_id,time,cate_id\n900000000000,800000000000,1,7000000000\n900000000000,5,2,3\n900000000000,70000000000000,3,3\n";
    let ev = read("huge.csv", text.as_bytes()).unwrap();
    let ds = build(&ev, SplitConfig::default()).unwrap();
    assert_eq!(ds.vocab.items.table_rows(), 3 + 2);
    assert_eq!(ds.vocab.users.table_rows(), 1 + 2);
    assert_eq!(ds.vocab.items.get(70000000000000), Some(3));
}

#[test]
fn bad_configuration_values_name_the_field() {
    let bad_model = [
        (
            ModelConfig {
                embed_dim: 0,
                ..Default::default()
            },
            "embed_dim",
        ),
        (
            ModelConfig {
                attention_dims: vec![],
                ..Default::default()
            },
            "attention_dims",
        ),
        (
            ModelConfig {
                mlp_dims: vec![16, 0],
                ..Default::default()
            },
            "mlp_dims",
        ),
    ];
    for (cfg, field) in bad_model {
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.contains(field), "{e}");
    }
    let bad_train = [
        (
            TrainConfig {
                batch_size: 0,
                ..Default::default()
            },
            "batch_size",
        ),
        (
            TrainConfig {
                lr: 0.0,
                ..Default::default()
            },
            "lr",
        ),
        (
            TrainConfig {
                lr: -1.0,
                ..Default::default()
            },
            "lr",
        ),
        (
            TrainConfig {
                lr: f64::NAN,
                ..Default::default()
            },
            "lr",
        ),
        (
            TrainConfig {
                epochs: 0,
                ..Default::default()
            },
            "epochs",
        ),
        (
            TrainConfig {
                weight_decay: -1.0,
                ..Default::default()
            },
            "weight_decay",
        ),
    ];
    for (cfg, field) in bad_train {
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.contains(field), "{e}");
    }
}
