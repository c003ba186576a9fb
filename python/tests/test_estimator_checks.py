"""scikit-learn's estimator checks on both estimators, with nothing marked as expected to fail."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from gmm_rs import BayesianGaussianMixture, GaussianMixture


@parametrize_with_checks([GaussianMixture(), BayesianGaussianMixture()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
