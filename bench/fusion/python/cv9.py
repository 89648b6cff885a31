from cv import *
from sklearn.svm import SVC
from sklearn.ensemble import HistGradientBoostingClassifier, ExtraTreesClassifier
from sklearn.neural_network import MLPClassifier
S=pd.read_csv('/tmp/fus/spec.csv'); Fi=F.drop(columns=['w','h']); G=pd.read_csv('/tmp/fus/feat2.csv').fillna(0)
X=np.hstack([M.values,Fi.values,S.values,G.values])
for C in (0.3,1,3):
  print('svc',C,cv(X,model=lambda: make_pipeline(StandardScaler(),SVC(C=C,gamma='scale'))))
print('hgb',cv(X,model=lambda: HistGradientBoostingClassifier(max_iter=300,learning_rate=0.03,max_leaf_nodes=15,l2_regularization=1.0)))
print('et',cv(X,model=lambda: ExtraTreesClassifier(500,min_samples_leaf=2,random_state=0)))
for a in (1e-1,1.0):
  print('mlp',a,cv(X,model=lambda: make_pipeline(StandardScaler(),MLPClassifier((64,32),alpha=a,max_iter=3000,random_state=0))))
