use din::data::Batch;
use din::model::{ModelKind, WeightNorm};
use din::train::TrainConfig;
fn main() {
    din::tune_allocator();
    let (_w, ds) = din::tutorial::demo_dataset(2000, 2026).unwrap();
    let mut mc = din::model::ModelConfig::default();
    mc.weight_norm = WeightNorm::Softmax;
    let tc = TrainConfig {
        epochs: 2,
        batch_size: 128,
        lr: 2e-3,
        ..Default::default()
    };
    let (m, _) = din::tutorial::train_model(&ds, ModelKind::Din, &mc, &tc, &mut |_| {}).unwrap();
    let b = Batch::from_split(&ds.test, &(0..6).collect::<Vec<_>>());
    let x = m.lookup(&b).unwrap();
    for train in [false, true] {
        let o = m.net.forward_t(&x, train).unwrap();
        let [wi, wc] = o.attention.unwrap();
        println!(
            "train={train}\nitem {:?}\ncate {:?}",
            wi.to_vec2::<f32>().unwrap()[..3].to_vec(),
            wc.to_vec2::<f32>().unwrap()[..3].to_vec()
        );
    }
    for (n, v) in m.params.named() {
        if n.contains("attention.item")
            && (n.contains("running") || n.contains("alpha") || n.contains("out"))
        {
            let t = v.as_tensor().flatten_all().unwrap();
            println!(
                "{n}: {:?}",
                &t.to_vec1::<f32>().unwrap()[..4.min(t.elem_count())]
            );
        }
    }
}
