//! Discriminant analysis on Fisher's iris (data/iris.csv): one full-covariance Gaussian per
//! class (QDA) and per-class BIC selection, trained from the labelled CSV reader.

use gmm_core::CovarianceType;
use gmm_em::{ClassModel, ClassifierConfig, EmConfig, MixtureClassifier, cross_validate};
use gmm_io::{LabelColumn, read_labelled_csv};

fn iris() -> (gmm_core::Matrix<f64>, Vec<String>) {
    let path = crate::common::root_path("data/iris.csv");
    let table = read_labelled_csv(&path, LabelColumn::Required("species")).unwrap();
    assert_eq!(table.feature_names.len(), 4);
    (table.features, table.labels.unwrap())
}

#[test]
fn iris_qda_training_and_cross_validated_accuracy() {
    let (x, labels) = iris();
    assert_eq!((x.n_rows(), x.n_cols(), labels.len()), (150, 4, 150));
    let config = ClassifierConfig::new(ClassModel::fixed(1, CovarianceType::Full));
    let classifier = MixtureClassifier::fit(&config, x.samples(), &labels).unwrap();
    assert_eq!(classifier.classes(), ["setosa", "versicolor", "virginica"]);
    let training = classifier.confusion(x.samples(), &labels).unwrap();
    assert_eq!(training.total(), 150);
    for c in 0..3 {
        assert_eq!((0..3).map(|p| training.count(c, p)).sum::<usize>(), 50, "class {c}");
    }
    // Setosa is linearly separable from the rest.
    assert_eq!(training.count(0, 0), 50);
    assert!(training.accuracy() >= 0.97, "training accuracy {}", training.accuracy());

    let cv = cross_validate(&config, x.samples(), &labels, 10).unwrap();
    assert_eq!(cv.confusion.total(), 150);
    assert_eq!(cv.fold_accuracy.len(), 10);
    assert!(cv.accuracy() >= 0.95, "10-fold accuracy {}", cv.accuracy());
}

#[test]
fn iris_bic_selected_per_class() {
    let (x, labels) = iris();
    let config = ClassifierConfig::new(ClassModel::select_by_bic(
        vec![1, 2, 3],
        CovarianceType::ALL.to_vec(),
    ))
    .em(EmConfig::default().n_init(3).seed(1));
    let cv = cross_validate(&config, x.samples(), &labels, 10).unwrap();
    assert!(cv.accuracy() >= 0.95, "10-fold accuracy {}", cv.accuracy());
    let again = cross_validate(
        &config.clone().em(config.get_em().clone().threads(Some(1))),
        x.samples(),
        &labels,
        10,
    )
    .unwrap();
    assert_eq!(cv, again);
}
