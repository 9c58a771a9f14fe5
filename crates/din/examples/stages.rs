use din::data::{build, plan_batches, Batch, BatchOrder, SplitConfig};
use din::model::{Model, ModelConfig, DTYPE};
use din::synth::{DemoConfig, DemoWorld};
use din::train::{bce_with_logits, TrainConfig, Trainer};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var("NO_TUNE").is_err() {
        din::tune_allocator();
    }
    let w = DemoWorld::new();
    let ev = w.generate(&DemoConfig {
        users: 1000,
        ..Default::default()
    });
    let ds = build(&ev, SplitConfig::default())?;
    let rows = [
        ds.vocab.items.table_rows(),
        ds.vocab.cates.table_rows(),
        ds.vocab.users.table_rows(),
    ];
    let bs: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(256);
    let mut m = Model::new(
        ModelConfig::default(),
        rows,
        1,
        &candle_core::Device::Cpu,
        DTYPE,
    )?;
    let mut tr = Trainer::new(&m, &ds.train, TrainConfig::default())?;
    let plan = plan_batches(
        &ds.train,
        BatchOrder {
            batch_size: bs,
            shuffle: Some(1),
            bucket_by_length: true,
        },
        1,
    );
    let mut t = [0f64; 6];
    let n = plan.len().min(60);
    for rows in plan.iter().take(n) {
        let t0 = Instant::now();
        let b = Batch::from_split(&ds.train, rows);
        let (x, touched) = m
            .embeddings
            .lookup_train(&b, m.layout, m.dtype, &m.device)?;
        let t1 = Instant::now();
        let out = m.net.forward_t(&x, true)?;
        let label = candle_core::Tensor::from_slice(&b.label, b.size, &m.device)?;
        let loss = bce_with_logits(&out.logit, &label)?;
        let t2 = Instant::now();
        let g = loss.backward()?;
        let t3 = Instant::now();
        tr.dense.step(&g)?;
        let t4 = Instant::now();
        tr.sparse
            .step(&mut m.embeddings, &touched, &g, tr.dense.step)?;
        let t5 = Instant::now();
        for (k, (a, z)) in [(t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5)]
            .iter()
            .enumerate()
        {
            t[k] += (*z - *a).as_secs_f64();
        }
        t[5] += rows.len() as f64;
    }
    let tot: f64 = t[..5].iter().sum();
    println!("batch {bs}: {:.0} samples/s; ms/step: lookup {:.2} fwd {:.2} bwd {:.2} dense {:.2} sparse {:.2}", t[5]/tot,
        t[0]*1e3/n as f64, t[1]*1e3/n as f64, t[2]*1e3/n as f64, t[3]*1e3/n as f64, t[4]*1e3/n as f64);
    Ok(())
}
