from cv import *
from sklearn.decomposition import PCA
E=np.fromfile('/tmp/fus/emb.f32',dtype=np.float32).reshape(len(df),1280).astype(float)
S=pd.read_csv('/tmp/fus/spec.csv'); Fi=F.drop(columns=['w','h'])
Xb=np.hstack([M.values,Fi.values,S.values])
for C in (0.01,0.1,1.0):
  print('meta+emb C',C,cv(np.hstack([M.values,E]),C=C))
  print('all+emb C',C,cv(np.hstack([Xb,E]),C=C))
for k in (16,32,64):
  mk=lambda: make_pipeline(StandardScaler(), __import__('sklearn.compose',fromlist=['ColumnTransformer']).ColumnTransformer([('p',make_pipeline(StandardScaler(),PCA(k,random_state=0)),list(range(Xb.shape[1],Xb.shape[1]+1280)))],remainder='passthrough'),StandardScaler(),LogisticRegression(C=0.5,max_iter=3000))
  print('all+pca',k,cv(np.hstack([Xb,E]),model=mk))
