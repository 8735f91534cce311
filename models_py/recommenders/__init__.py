"""Rating-prediction / recommendation estimators over integer-coded (influencer, song, Delta)."""

from models_py.recommenders.base import RatingRecommender
from models_py.recommenders.baselines import BiasBaseline, GlobalMean
from models_py.recommenders.data import Ratings
from models_py.recommenders.item_knn import ItemKNN
from models_py.recommenders.knn_baseline import KNNBaseline
from models_py.recommenders.matrix_factorization import BiasedMF
from models_py.recommenders.report_cf import ReportItemCF, ReportUserCF
from models_py.recommenders.report_svd import ReportSVD
from models_py.recommenders.tuning import evaluate, tune

__all__ = [
    "BiasBaseline",
    "BiasedMF",
    "GlobalMean",
    "ItemKNN",
    "KNNBaseline",
    "RatingRecommender",
    "Ratings",
    "ReportItemCF",
    "ReportSVD",
    "ReportUserCF",
    "evaluate",
    "tune",
]
